//! Injected storage faults for native tests: the MemoryStore's KV calls and the native
//! objects' calls fail at a set rate, the way calls fail on Cloudflare now and then (KV 429s
//! and 5xx, a Durable Object call that never arrives or whose answer is lost after the object
//! committed). The Worker's own harness does the same at the bindings (scripts/fault-entry.mjs).

use std::cell::Cell;

/// A seeded, repeatable sequence of draws (xorshift64*) and what was injected.
#[derive(Default)]
pub struct Faults {
    /// Chance of a fault per call, in millionths (0: off).
    rate_ppm: Cell<u32>,
    state: Cell<u64>,
    injected: Cell<usize>,
}

impl Faults {
    /// Calls fail with probability `rate` (0 to 1) from now on; `seed` fixes the sequence.
    pub fn set(&self, rate: f64, seed: u64) {
        self.rate_ppm.set((rate.clamp(0.0, 1.0) * 1e6) as u32);
        self.state.set(seed | 1);
    }

    /// Whether this call fails (and counts it).
    pub fn hit(&self) -> bool {
        if self.rate_ppm.get() == 0 {
            return false;
        }
        let mut x = self.state.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.state.set(x);
        let draw = (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32) % 1_000_000;
        let hit = draw < u64::from(self.rate_ppm.get());
        if hit {
            self.injected.set(self.injected.get() + 1);
        }
        hit
    }

    /// Faults injected so far.
    pub fn injected(&self) -> usize {
        self.injected.get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_by_default_and_close_to_the_rate_when_set() {
        let f = Faults::default();
        assert!((0..1000).all(|_| !f.hit()));
        f.set(0.1, 7);
        let hits = (0..20_000).filter(|_| f.hit()).count();
        assert!((1600..2400).contains(&hits), "{hits} of 20000 at 10%");
        assert_eq!(f.injected(), hits);
        f.set(1.0, 7);
        assert!(f.hit());
    }
}
