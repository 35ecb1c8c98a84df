"""THE one place where Bybit's wire structs become asym's domain types, and domain requests become wire
bodies: `market` (public data), `account` (orders, fills, positions, wallet, request bodies), `common`
(exact string -> Decimal / int parsing). Money is Decimal parsed from the wire string, never via float; ""
means "not provided" (None for optional fields); a malformed required field raises DataError naming it."""
