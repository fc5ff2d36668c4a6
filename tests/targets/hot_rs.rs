// A Rust target whose hot function sits in a module, so that its symbol is
// mangled (legacy _ZN...h<hash>E, or v0 _R... with -C symbol-mangling-version=v0):
// loupe must show it demangled (hot_rs::work::spin), as perf does.
// Built by tests/functional/test_truth_names.py with rustc.  Prints
// "ready <pid>" once running.
use std::io::Write;

mod work {
    #[inline(never)]
    pub fn spin(n: u64) -> u64 {
        // volatile, not std::hint::black_box: Debian 12's rustc is 1.63
        let mut s: u64 = 0;
        for i in 0..n {
            unsafe {
                let v = std::ptr::read_volatile(&s);
                std::ptr::write_volatile(&mut s, v.wrapping_add(i.wrapping_mul(7)));
            }
        }
        s
    }
}

fn main() {
    println!("ready {}", std::process::id());
    std::io::stdout().flush().unwrap();
    let mut t: u64 = 0;
    loop {
        t = t.wrapping_add(work::spin(100_000_000));
        unsafe { std::ptr::write_volatile(&mut t, t) };
    }
}
