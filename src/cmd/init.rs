//! `aims init [DIR]`: a new project from a template that passes
//! `aims check` and `aims test` as created.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use aims_lang::Date;

use super::output::write_atomically;
use super::{usage_error, EXIT_INVALID};

#[derive(clap::Args)]
pub struct InitArgs {
    /// The folder to create the project in (created if missing; must hold no aims.toml).
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// The project's name (default: the folder's name).
    #[arg(long)]
    pub name: Option<String>,
}

/// The template: path in the project, and text with `{{name}}` and `{{assessed}}` holes.
const TEMPLATE: &[(&str, &str)] = &[
    ("aims.toml", include_str!("../init/aims.toml")),
    ("README.md", include_str!("../init/README.md")),
    ("policy/schema.aims", include_str!("../init/policy/schema.aims")),
    ("policy/controls.aims", include_str!("../init/policy/controls.aims")),
    ("policy/tests.aims", include_str!("../init/policy/tests.aims")),
    ("facts/systems.yaml", include_str!("../init/facts/systems.yaml")),
];

fn project_name(dir: &Path, name: Option<String>) -> String {
    let from_dir = || {
        std::fs::canonicalize(dir)
            .ok()
            .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "aims-project".into())
    };
    let raw = name.unwrap_or_else(from_dir);
    // The name goes into TOML and Markdown: keep it to a safe alphabet.
    let cleaned: String =
        raw.chars().map(|c| if c.is_alphanumeric() || "-_ .".contains(c) { c } else { '-' }).collect();
    if cleaned.trim().is_empty() {
        "aims-project".into()
    } else {
        cleaned.trim().to_string()
    }
}

/// Why `path` of the template cannot be written under `dir`: the file
/// exists (even as a dangling symbolic link), or a folder on the way is a
/// symbolic link, which would put the template outside the project.
fn refuse_existing(dir: &Path, path: &str) -> Result<(), String> {
    let mut at = dir.to_path_buf();
    let parts: Vec<&str> = path.split('/').collect();
    for (i, part) in parts.iter().enumerate() {
        at.push(part);
        let Ok(meta) = std::fs::symlink_metadata(&at) else { return Ok(()) };
        if meta.file_type().is_symlink() {
            return Err(format!(
                "`{}` is a symbolic link; aims init writes only into the project's own folders",
                at.display()
            ));
        }
        if i + 1 == parts.len() {
            return Err(format!("`{}` already exists", at.display()));
        }
        if !meta.is_dir() {
            return Err(format!("`{}` is not a folder", at.display()));
        }
    }
    Ok(())
}

pub fn run(args: InitArgs) -> ExitCode {
    if args.dir.join("aims.toml").exists() {
        eprintln!("aims: `{}` already holds an aims.toml; nothing was changed", args.dir.display());
        return ExitCode::from(EXIT_INVALID);
    }
    for (path, _) in TEMPLATE {
        if let Err(why) = refuse_existing(&args.dir, path) {
            eprintln!("aims: {why}; nothing was changed");
            return ExitCode::from(EXIT_INVALID);
        }
    }
    if let Err(e) = std::fs::create_dir_all(&args.dir) {
        return usage_error(&format!("cannot create `{}`: {e}", args.dir.display()));
    }
    let name = project_name(&args.dir, args.name);
    // The sample assessment is recent, so the new project passes today.
    let assessed = Date::today_utc().add_days(-30).to_string();
    for (path, text) in TEMPLATE {
        let target = args.dir.join(path);
        let text = text.replace("{{name}}", &name).replace("{{assessed}}", &assessed);
        if let Err(e) = target.parent().map_or(Ok(()), std::fs::create_dir_all) {
            return usage_error(&format!("cannot create the folder of `{}`: {e}", target.display()));
        }
        if let Err(why) = write_atomically(&target, &text) {
            return usage_error(&why);
        }
    }
    println!("created project `{name}` in {}", args.dir.display());
    println!("next: `aims check {0}` and `aims test {0}`", args.dir.display());
    ExitCode::SUCCESS
}
