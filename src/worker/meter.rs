//! Counts what one request costs in storage operations: KV reads, writes (put, delete) and
//! lists, and Durable Object calls. With `COST_HEADER=1` (benchmarks only) the response
//! carries them as `x-storage-ops`, so `make bench` can report them per step.

use std::cell::Cell;

#[derive(Default)]
pub struct Meter {
    pub kv_reads: Cell<u32>,
    pub kv_writes: Cell<u32>,
    pub kv_lists: Cell<u32>,
    pub object_calls: Cell<u32>,
}

pub fn bump(counter: &Cell<u32>) {
    counter.set(counter.get() + 1);
}

impl Meter {
    pub fn header(&self) -> String {
        format!(
            "kv_reads={}; kv_writes={}; kv_lists={}; object_calls={}",
            self.kv_reads.get(),
            self.kv_writes.get(),
            self.kv_lists.get(),
            self.object_calls.get()
        )
    }
}
