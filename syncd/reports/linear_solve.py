"""A small exact linear solver (Gauss-Jordan over Fractions) for the Markov absorption equations."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction


def solve_exact(
    matrix: Sequence[Sequence[int | Fraction]], right: Sequence[Sequence[int | Fraction]]
) -> list[list[Fraction]]:
    """Solve `matrix · X = right` exactly for X (n×m, one column per right-hand side).

    Raises ValueError when the matrix is singular.
    """
    n = len(matrix)
    rows = [
        [Fraction(v) for v in row] + [Fraction(v) for v in rhs]
        for row, rhs in zip(matrix, right, strict=True)
    ]
    width = len(rows[0]) if rows else 0
    for col in range(n):
        pivot = next((r for r in range(col, n) if rows[r][col] != 0), None)
        if pivot is None:
            raise ValueError("singular system")
        rows[col], rows[pivot] = rows[pivot], rows[col]
        pivot_row = rows[col]
        inv = 1 / pivot_row[col]
        # Only the non-zero columns of the pivot row matter; the transition matrices are sparse.
        live = [k for k in range(col, width) if pivot_row[k] != 0]
        for k in live:
            pivot_row[k] *= inv
        for r in range(n):
            if r == col:
                continue
            row = rows[r]
            factor = row[col]
            if factor == 0:
                continue
            for k in live:
                row[k] -= factor * pivot_row[k]
    return [row[n:] for row in rows]
