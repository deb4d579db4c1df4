"""Services: every read and write of ledger data goes through here. Qt-free."""
