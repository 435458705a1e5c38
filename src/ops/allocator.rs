//! How the process's memory allocator is told to give large buffers back.
//!
//! glibc's malloc serves a request of 128 KiB or more with its own `mmap`,
//! unmapped again on `free`, but after the first such free it raises that
//! threshold to the freed size (up to 32 MiB), so that from then on
//! buffers of a few megabytes (an upload's form, its cleaned and sealed
//! copies) come from the per-thread arenas, which keep the memory once it
//! is freed. With uploads on many threads, the arenas held some 240 MB of
//! freed buffers at the peak of `benches/photos.rs` (516 MB against 277 MB
//! with the threshold fixed; docs/benchmarks.md, "Photo uploads"). Fixing
//! the threshold at 1 MiB turns the dynamic adjustment off: a buffer that
//! large is mapped and unmapped each time, a cost that is small beside
//! what is done with a megabyte of image, and rare elsewhere in this API.

/// The size from which allocations are mapped, and unmapped when freed.
const MMAP_THRESHOLD: i32 = 1 << 20;

/// Sets the threshold for the whole process; called as the server is built.
pub fn return_large_buffers_to_the_os() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: `mallopt` takes plain integers and only changes a malloc
        // parameter under malloc's own lock; glibc documents it as safe to
        // call at any time from any thread.
        let accepted = unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD) };
        if accepted == 0 {
            tracing::warn!("the allocator refused a fixed mmap threshold");
        }
    }
}
