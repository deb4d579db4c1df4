"""Showing and printing the PDFs the core renders: QtPdf draws the pages, Qt prints them.

Pages are rendered to images on white (QPdfDocument gives transparent ARGB) and sent to the
printer at its own resolution, full page, so that 1 mm in the PDF is 1 mm on the paper.
"""

from __future__ import annotations

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QRectF, QSize, QSizeF, Qt
from PySide6.QtGui import QColor, QImage, QPageLayout, QPageSize, QPainter, QPixmap
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import QLabel, QScrollArea, QVBoxLayout, QWidget

MAX_PREVIEW_PAGES = 20
MAX_RENDER_DPI = 600  # an A4 page at 1200 dpi would be a 560 MB image; 600 dpi keeps QR modules sharp


def load_pdf(data: bytes, parent=None) -> tuple[QPdfDocument, QBuffer]:
    """A QPdfDocument over PDF bytes (the buffer must live as long as the document)."""
    buffer = QBuffer(parent)
    buffer.setData(QByteArray(data))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    document = QPdfDocument(parent)
    document.load(buffer)
    return document, buffer


def page_image(document: QPdfDocument, page: int, width_px: int) -> QImage:
    """One page at ``width_px`` wide, painted onto white."""
    size_pt = document.pagePointSize(page)
    height_px = max(1, round(width_px * size_pt.height() / size_pt.width()))
    rendered = document.render(page, QSize(width_px, height_px))
    image = QImage(rendered.size(), QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.drawImage(0, 0, rendered)
    painter.end()
    return image


def print_pdf(data: bytes, printer: QPrinter) -> int:
    """Send every page to ``printer`` at 100 %; returns the pages printed."""
    document, buffer = load_pdf(data)
    pages = document.pageCount()
    if pages == 0:
        raise ValueError("PDF 无法读取")
    first = document.pagePointSize(0)
    printer.setFullPage(True)  # measure from the paper's edge, as the layout does
    printer.setPageLayout(QPageLayout(QPageSize(QSizeF(first.width(), first.height()), QPageSize.Unit.Point),
                                      QPageLayout.Orientation.Portrait, QMarginsF(0, 0, 0, 0)))
    painter = QPainter()
    if not painter.begin(printer):
        raise OSError("无法开始打印:打印机不可用或输出文件无法写入")
    try:
        dpi = printer.resolution()
        render_dpi = min(dpi, MAX_RENDER_DPI)
        for page in range(pages):
            if page:
                printer.newPage()
            size = document.pagePointSize(page)
            image = page_image(document, page, round(size.width() / 72 * render_dpi))
            # drawn over the whole page in the printer's own units: 1 mm stays 1 mm
            painter.drawImage(QRectF(0, 0, size.width() / 72 * dpi, size.height() / 72 * dpi), image)
    finally:
        painter.end()
        document.close()
        buffer.close()
    return pages


class PdfPreview(QScrollArea):
    """The pages one under another, on a grey desk, as they will print."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.host = QWidget()
        self.host.setStyleSheet("background: #8a8f96;")
        self.pages_layout = QVBoxLayout(self.host)
        self.pages_layout.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.setWidget(self.host)
        self.page_labels: list[QLabel] = []
        self.page_count = 0

    def show_pdf(self, data: bytes, width_px: int = 620) -> None:
        for label in self.page_labels:
            label.deleteLater()
        self.page_labels = []
        document, buffer = load_pdf(data, self)
        self.page_count = document.pageCount()
        for page in range(min(self.page_count, MAX_PREVIEW_PAGES)):
            label = QLabel()
            label.setPixmap(QPixmap.fromImage(page_image(document, page, width_px)))
            label.setStyleSheet("border: 1px solid #555; background: white;")
            self.pages_layout.addWidget(label)
            self.page_labels.append(label)
        if self.page_count > MAX_PREVIEW_PAGES:
            more = QLabel(f"(另有 {self.page_count - MAX_PREVIEW_PAGES} 页未预览,打印时全部输出)")
            more.setStyleSheet("color: white;")
            self.pages_layout.addWidget(more)
            self.page_labels.append(more)
        document.close()
        buffer.close()
