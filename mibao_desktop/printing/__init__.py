"""Labels and approval forms as PDF (reportlab), Qt-free: the desktop previews and prints the
same files the command line writes."""
