//! Shared test support: the Worker in workerd (`worker`), plain HTTP (`http`), and the
//! core in-process against `MemoryStore` (`inprocess`).
#![allow(dead_code)]

pub mod browser;
pub mod e2e;
pub mod faults;
pub mod flaky;
pub mod flow;
pub mod http;
pub mod inprocess;
pub mod race;
pub mod revocation;
pub mod worker;
