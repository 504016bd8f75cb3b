//! End-to-end tests: they drive the built `planledger` binary. One test binary (as in
//! ripgrep): topic modules are declared here.

mod crash;
mod e2e;
mod e2e_app;
mod e2e_audit;
mod e2e_client;
mod e2e_dossier;
mod e2e_flip;
mod e2e_hardening;
mod e2e_integrity;
mod e2e_ops;
mod e2e_pii;
mod e2e_postgres;
mod e2e_weeding;
mod e2e_weeding_crash;
mod e2e_weeding_pg;
mod e2e_witness;
mod postgres;
mod util;
