"""Found looking at the real desktop at 1366×768 on the demo data, as a security administrator
would (review of the screens): what was cut off, misleading or left in English."""

from __future__ import annotations

from tests.conftest import computer


def test_the_row_numbers_title_is_not_cut_off_in_a_short_ledger(window, qtbot, service):
    """A ledger (or a search) of fewer than 100 rows: the 序号 over the row numbers was cut to
    half a character (the column was as wide as two digits)."""
    for i in range(3):
        service.create("computers", computer(asset_number=f"JM-{i:04d}", serial_number=f"S{i}", disk_serials=f"D{i}",
                                             mac_addresses=f"00-00-00-00-03-{i:02X}"))
    page = window.current_page()
    page.refresh()
    qtbot.waitUntil(lambda: page.model.total == 3)
    corner = page.table.corner
    assert corner.text() == "序号"
    assert corner.width() >= corner.fontMetrics().horizontalAdvance("序号") + 4, corner.width()
