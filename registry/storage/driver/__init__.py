"""Storage drivers: one contract (`base.StorageDriver`), one implementation per backend."""
