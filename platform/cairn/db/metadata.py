"""The control-plane MetaData. Every domain's models.py declares its tables on it."""

from sqlalchemy import MetaData

CONTROL_SCHEMA = "cairn"

metadata = MetaData(
    schema=CONTROL_SCHEMA,
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    },
)
