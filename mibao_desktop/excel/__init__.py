"""Excel (and csv) in and out of the ledgers, driven by the ledger declarations. Qt-free."""

from mibao_desktop.excel.annual import export_annual_report
from mibao_desktop.excel.export import default_marking, export_ledger
from mibao_desktop.excel.importer import ImportReport, import_ledger
from mibao_desktop.excel.reader import SpreadsheetError

__all__ = ["ImportReport", "SpreadsheetError", "default_marking", "export_annual_report", "export_ledger",
           "import_ledger"]
