//! `aims init [DIR]`: a new project from a template that passes
//! `aims check` and `aims test` as created.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::{today, usage_error, write_atomically, EXIT_INVALID};

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

pub fn run(args: InitArgs) -> ExitCode {
    if args.dir.join("aims.toml").exists() {
        eprintln!("aims: `{}` already holds an aims.toml; nothing was changed", args.dir.display());
        return ExitCode::from(EXIT_INVALID);
    }
    for (path, _) in TEMPLATE {
        let target = args.dir.join(path);
        if target.exists() {
            eprintln!("aims: `{}` already exists; nothing was changed", target.display());
            return ExitCode::from(EXIT_INVALID);
        }
    }
    if let Err(e) = std::fs::create_dir_all(&args.dir) {
        return usage_error(&format!("cannot create `{}`: {e}", args.dir.display()));
    }
    let name = project_name(&args.dir, args.name);
    // The sample assessment is recent, so the new project passes today.
    let assessed = today().add_days(-30).to_string();
    for (path, text) in TEMPLATE {
        let target = args.dir.join(path);
        let text = text.replace("{{name}}", &name).replace("{{assessed}}", &assessed);
        let written =
            target.parent().map_or(Ok(()), std::fs::create_dir_all).and_then(|()| write_atomically(&target, &text));
        if let Err(e) = written {
            return usage_error(&format!("cannot write `{}`: {e}", target.display()));
        }
    }
    println!("created project `{name}` in {}", args.dir.display());
    println!("next: `aims check {0}` and `aims test {0}`", args.dir.display());
    ExitCode::SUCCESS
}
