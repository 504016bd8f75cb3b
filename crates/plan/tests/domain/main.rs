//! The plan domain's tests: one test binary (the machine has two cores), one module per
//! topic. Test names say the rule they pin and the seed it comes from.

mod fixtures;

mod changes;
mod completeness;
mod deadlines;
mod events;
mod fee;
mod ids;
mod lifecycle;
mod policy;
mod properties;
mod roles;
mod scenario;
