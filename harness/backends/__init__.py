"""Model backends: one narrow contract (`Backend`), one module per backend."""
