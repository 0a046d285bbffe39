//! The Python package `medaudit` (pyo3, maturin, abi3) will live here; see the Python issue.
//!
//! This crate is a workspace member so that the layout is fixed from the start. It exports nothing yet:
//! the Python binding is not built in this version.
