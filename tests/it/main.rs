//! Integration tests for the govkit binary.
