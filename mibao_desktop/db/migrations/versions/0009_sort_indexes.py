"""Indexes of the ledger tables on (column, id) instead of (column).

A page is sorted by a column and then by id. SQLite keeps the rowid in every index, so its
indexes already gave that order; a PostgreSQL index on the column alone made it sort every row
of a value (a million 在用 computers) to find the first page. The id is now part of each index.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""
from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# the indexed columns of each ledger table as revisions 0006 and 0007 made them
INDEXED = {
    "computers": ("asset_number", "brand_model", "classified_on", "department", "device_type", "disk_serials", "level",
                  "location", "mac_addresses", "network", "responsible_person", "serial_number", "start_date",
                  "status", "user"),
    "unclassified_computers": ("asset_number", "brand_model", "department", "device_type", "disk_serials",
                               "location", "mac_addresses", "network", "responsible_person", "serial_number",
                               "start_date", "status", "user"),
    "media": ("asset_number", "brand_model", "capacity", "department", "level", "location", "media_type",
              "responsible_person", "serial_number", "start_date", "status"),
    "office_devices": ("asset_number", "brand_model", "connected_computers", "department", "device_type", "level",
                       "location", "responsible_person", "serial_number", "start_date", "status"),
    "people": ("department", "id_tail", "name", "person_number", "post", "status"),
    "carriers": ("carrier_number", "classified_on", "copies", "declassify_on", "department", "doc_number", "form",
                 "issuer", "keeper", "level", "location", "received_on", "secrecy_period", "source", "status", "title"),
    "carrier_copies": ("copy_number", "due_on", "holder", "parent_id", "status"),
}


def upgrade() -> None:
    for key, columns in INDEXED.items():
        table = f"ledger_{key}"
        for column in columns:
            if column == "parent_id":
                continue  # a child's parent: looked up, never sorted by
            name = f"ix_{table}_{column}"
            op.drop_index(name, table_name=table)
            op.create_index(name, table, [column, "id"])


def downgrade() -> None:
    for key, columns in INDEXED.items():
        table = f"ledger_{key}"
        for column in columns:
            if column == "parent_id":
                continue
            name = f"ix_{table}_{column}"
            op.drop_index(name, table_name=table)
            op.create_index(name, table, [column])
