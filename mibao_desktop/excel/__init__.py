"""Excel (and csv) in and out of the ledgers, driven by the ledger declarations. Qt-free."""

from mibao_desktop.excel.export import export_ledger
from mibao_desktop.excel.importer import ImportReport, import_ledger
from mibao_desktop.excel.reader import SpreadsheetError

__all__ = ["ImportReport", "SpreadsheetError", "export_ledger", "import_ledger"]
