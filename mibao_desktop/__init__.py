"""MiBao (密保): secrecy-management ledgers (保密台账) for an air-gapped classified computer.

Everything outside ``mibao_desktop.ui`` is the Qt-free core: ledgers, rules, services,
reports and printing, reused by the command line and tested without a display.
"""

__version__ = "0.1.0"
APP_NAME = "MiBao"
APP_TITLE = "密保 · 保密台账管理"
