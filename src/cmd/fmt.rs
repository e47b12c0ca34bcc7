//! `aims fmt`: format policy files in place, or check that they are.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use aims_lang::diag::{Code, Diagnostic, Sources};
use aims_lang::project::resolve_inside;

use super::output::write_atomically;
use super::{print_diagnostics, usage_error, EXIT_FINDINGS, EXIT_INVALID};

#[derive(clap::Args)]
pub struct FmtArgs {
    /// `.aims` files or folders (searched recursively); default: the current folder.
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Change nothing; list the files that are not formatted and exit with 1 if any.
    #[arg(long)]
    pub check: bool,
}

/// The project a path belongs to: the nearest folder up from it that holds
/// an `aims.toml`, else the folder itself (canonical).
fn project_root(folder: &Path) -> PathBuf {
    let folder = folder.canonicalize().unwrap_or_else(|_| folder.to_path_buf());
    folder.ancestors().find(|a| a.join("aims.toml").is_file()).unwrap_or(&folder).to_path_buf()
}

/// A policy file to format: the path shown, and the project it must stay in.
struct PolicyFile {
    path: PathBuf,
    root: PathBuf,
}

/// Every `.aims` file under `path`, sorted; hidden folders and `target` skipped.
fn policy_files(path: &Path, root: &Path, out: &mut Vec<PolicyFile>) -> std::io::Result<()> {
    if path.is_file() {
        out.push(PolicyFile { path: path.to_path_buf(), root: root.to_path_buf() });
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for entry in entries {
        let name = entry.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        // Symlinked folders are not followed: they may lead out of the project or loop.
        let is_link = entry.symlink_metadata().map(|m| m.file_type().is_symlink()).unwrap_or(true);
        if entry.is_dir() && !is_link && !name.starts_with('.') && name != "target" {
            policy_files(&entry, root, out)?;
        } else if entry.is_file() && name.ends_with(".aims") {
            out.push(PolicyFile { path: entry, root: root.to_path_buf() });
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
        let folder = if path.is_dir() {
            path.as_path()
        } else {
            path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."))
        };
        if let Err(e) = policy_files(path, &project_root(folder), &mut files) {
            return usage_error(&format!("cannot read `{}`: {e}", path.display()));
        }
    }
    let mut outside = Vec::new();
    // A symbolic link is read and written at its target, so it stays a
    // link; a target outside the project is neither read nor written.
    let mut seen = std::collections::HashSet::new();
    let files: Vec<(PathBuf, PathBuf)> = files
        .into_iter()
        .filter_map(|file| match resolve_inside(&file.root, &file.path) {
            Ok(real) => seen.insert(real.clone()).then_some((file.path, real)),
            Err(_) => {
                outside.push(file.path);
                None
            }
        })
        .collect();
    if !outside.is_empty() {
        let diagnostics: Vec<Diagnostic> = outside
            .iter()
            .map(|path| {
                Diagnostic::error(
                    Code::OutsideProject,
                    format!("`{}` leads outside the project folder; it was not formatted", path.display()),
                )
                .note("a symbolic link is formatted at its target, which must be inside the project folder")
            })
            .collect();
        print_diagnostics(&Sources::new(), &diagnostics);
    }
    let mut unformatted = 0;
    let mut invalid = 0;
    for (file, real) in &files {
        let text = match std::fs::read_to_string(real) {
            Ok(text) => text,
            Err(e) => return usage_error(&format!("cannot read `{}`: {e}", file.display())),
        };
        match aims_lang::syntax::format(&text) {
            Ok(formatted) if formatted == text => {}
            Ok(formatted) => {
                unformatted += 1;
                if args.check {
                    println!("{}", file.display());
                } else if let Err(why) = write_atomically(real, &formatted) {
                    return usage_error(&why);
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
    }
    if invalid > 0 || !outside.is_empty() {
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
