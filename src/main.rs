use std::process::ExitCode;

/// mimalloc instead of glibc's malloc: a request allocates many small buffers on one worker and
/// frees them on another, where glibc's arenas spend their time (seen in profiles of the intake
/// benchmark as `_int_malloc`, `malloc_consolidate` and `cfree`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    hotline::cli::main()
}
