//! `aims fmt`: format policy files in place, or check that they are.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use aims_lang::diag::{Diagnostic, Sources};

use super::{print_diagnostics, usage_error, write_atomically, EXIT_FINDINGS, EXIT_INVALID};

#[derive(clap::Args)]
pub struct FmtArgs {
    /// `.aims` files or folders (searched recursively); default: the current folder.
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Change nothing; list the files that are not formatted and exit with 1 if any.
    #[arg(long)]
    pub check: bool,
}

/// Every `.aims` file under `path`, sorted; hidden folders and `target` skipped.
fn policy_files(path: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if path.is_file() {
        out.push(path.to_path_buf());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for entry in entries {
        let name = entry.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        // Symlinked folders are not followed: they may lead out of the project or loop.
        let is_link = entry.symlink_metadata().map(|m| m.file_type().is_symlink()).unwrap_or(true);
        if entry.is_dir() && !is_link && !name.starts_with('.') && name != "target" {
            policy_files(&entry, out)?;
        } else if entry.is_file() && name.ends_with(".aims") {
            out.push(entry);
        }
    }
    Ok(())
}

pub fn run(args: FmtArgs) -> ExitCode {
    let mut files = Vec::new();
    for path in &args.paths {
        if !path.exists() {
            return usage_error(&format!("`{}` does not exist", path.display()));
        }
        if let Err(e) = policy_files(path, &mut files) {
            return usage_error(&format!("cannot read `{}`: {e}", path.display()));
        }
    }
    let mut unformatted = 0;
    let mut invalid = 0;
    for file in &files {
        let text = match std::fs::read_to_string(file) {
            Ok(text) => text,
            Err(e) => return usage_error(&format!("cannot read `{}`: {e}", file.display())),
        };
        match aims_lang::format::format(&text) {
            Ok(formatted) if formatted == text => {}
            Ok(formatted) => {
                unformatted += 1;
                if args.check {
                    println!("{}", file.display());
                } else if let Err(e) = write_atomically(file, &formatted) {
                    return usage_error(&format!("cannot write `{}`: {e}", file.display()));
                }
            }
            Err(errors) => {
                invalid += 1;
                let mut sources = Sources::new();
                let id = sources.add(file.display().to_string(), text);
                let diagnostics: Vec<Diagnostic> = errors.iter().map(|e| Diagnostic::from_syntax(id, e)).collect();
                print_diagnostics(&sources, &diagnostics);
            }
        }
    }
    let count = |n: usize| aims_lang::report::count(n, "file", "files");
    if invalid > 0 {
        eprintln!("aims: {} not formatted because of syntax errors", count(invalid));
        return ExitCode::from(EXIT_INVALID);
    }
    if args.check && unformatted > 0 {
        eprintln!("aims: {} would be reformatted; run `aims fmt`", count(unformatted));
        return ExitCode::from(EXIT_FINDINGS);
    }
    match (args.check, unformatted) {
        (_, 0) => eprintln!("aims: {} already formatted", count(files.len())),
        (true, _) => {}
        (false, n) => eprintln!("aims: formatted {} ({} already formatted)", count(n), files.len() - n),
    }
    ExitCode::SUCCESS
}
