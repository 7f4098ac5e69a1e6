//! Integration tests of vendor-verify on real `cargo vendor` trees.
