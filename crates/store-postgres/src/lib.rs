//! planledger's scale-out store, on PostgreSQL (work in progress).

pub mod testing;
