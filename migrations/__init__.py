"""syncd's Alembic migrations (shipped in the wheel so `syncd db upgrade` works anywhere)."""
