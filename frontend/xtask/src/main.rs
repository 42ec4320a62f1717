//! Builds the dashboard bundle with crates.io tools only:
//! `cargo run --release --manifest-path frontend/Cargo.toml -p xtask [-- OUT_DIR]`.
//!
//! Compiles the app for `wasm32-unknown-unknown` with the `wasm-release` profile, generates
//! the JavaScript bindings with `wasm-bindgen-cli-support` (the same version as the app's
//! `wasm-bindgen`, kept in step by one Cargo.lock), copies the static files and writes a
//! gzipped copy of each file beside it, which the server sends to browsers that accept it.

use std::{
    error::Error,
    fs,
    io::Write,
    path::{Path, PathBuf},
    process::Command,
};

use flate2::{Compression, write::GzEncoder};
use wasm_bindgen_cli_support::Bindgen;

type Outcome<T> = Result<T, Box<dyn Error>>;

fn main() -> Outcome<()> {
    let frontend = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or("xtask lives inside frontend/")?
        .to_path_buf();
    let out = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| frontend.join("dist"));
    let wasm = compile(&frontend)?;
    if out.exists() {
        fs::remove_dir_all(&out)?;
    }
    fs::create_dir_all(&out)?;
    Bindgen::new()
        .input_path(&wasm)
        .out_name("dashboard")
        .web(true)?
        .typescript(false)
        .omit_default_module_path(false)
        .generate(&out)?;
    for file in ["index.html", "style.css", "favicon.svg"] {
        fs::copy(frontend.join("static").join(file), out.join(file))?;
    }
    report(&out)
}

/// Compiles the app and returns the path of its `.wasm`.
fn compile(frontend: &Path) -> Outcome<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(frontend)
        .args([
            "build",
            "-p",
            "concord-dashboard",
            "--target",
            "wasm32-unknown-unknown",
            "--profile",
            "wasm-release",
        ])
        .status()?;
    if !status.success() {
        return Err("compiling the dashboard failed".into());
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| frontend.join("target"));
    Ok(target.join("wasm32-unknown-unknown/wasm-release/concord-dashboard.wasm"))
}

/// Writes `FILE.gz` beside every file and prints the sizes.
fn report(out: &Path) -> Outcome<()> {
    let mut total = (0, 0);
    let mut files: Vec<_> = fs::read_dir(out)?.collect::<Result<_, _>>()?;
    files.sort_by_key(|f| f.file_name());
    for entry in files {
        let path = entry.path();
        let raw = fs::read(&path)?;
        let mut gz = GzEncoder::new(Vec::new(), Compression::best());
        gz.write_all(&raw)?;
        let gz = gz.finish()?;
        fs::write(
            path.with_file_name(format!("{}.gz", entry.file_name().to_string_lossy())),
            &gz,
        )?;
        println!(
            "{:>24} {:>9} bytes {:>9} gzipped",
            entry.file_name().to_string_lossy(),
            raw.len(),
            gz.len()
        );
        total = (total.0 + raw.len(), total.1 + gz.len());
    }
    println!(
        "{:>24} {:>9} bytes {:>9} gzipped",
        "total", total.0, total.1
    );
    println!("dashboard built in {}", out.display());
    Ok(())
}
