"""Typed wire structs (msgspec) mirroring Bybit V5 JSON; decoded straight from bytes. No domain logic here."""
