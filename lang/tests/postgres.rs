//! A PostgreSQL source against a real server: the test starts one from
//! the machine's PostgreSQL binaries (Debian's `postgresql` package, which
//! `.ci/run` installs) on a loopback port, with a data folder under the
//! target folder, and stops it at the end. Without the binaries the test
//! says so and passes, unless `AIMS_CI_TOOLS` is set: then it fails.
//!
//! PostgreSQL refuses to run as root; as root (as CI runs), the server and
//! `initdb` run as the `postgres` user through `runuser`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use aims_lang::diag::Code;
use aims_lang::facts::Facts;
use aims_lang::ir::Value;
use aims_lang::project::LoadOptions;
use aims_lang::{Engine, LoadFailure};

const POLICY: &str = "enum Tier { low, high }\n\
    entity Sys { id: Text key, tier: Tier, n: Int = 0, score: Number?, reviewed: Date?, active: Bool = false }\n\
    control c for s: Sys { require s.tier == low }\n";

/// The folder of the PostgreSQL binaries, the newest version first.
fn binaries() -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("initdb").is_file() && bin.join("pg_ctl").is_file())
        .collect();
    found.sort();
    found.pop()
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// A command run as the `postgres` user when this process is root.
fn as_server_user(program: &Path) -> Command {
    if is_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

/// A running server, stopped when dropped.
struct Server {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
}

impl Server {
    fn start(bin: PathBuf) -> Server {
        let base = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("postgres-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let data = base.join("data");
        std::fs::create_dir_all(&base).expect("server folder");
        if is_root() {
            let status = Command::new("chown").args(["postgres:postgres"]).arg(&base).status().expect("chown");
            assert!(status.success(), "chown of {} failed", base.display());
        }
        let out = as_server_user(&bin.join("initdb"))
            .args(["-A", "trust", "-U", "aims", "-E", "UTF8", "--no-locale", "-D"])
            .arg(&data)
            .output()
            .expect("initdb runs");
        assert!(out.status.success(), "initdb failed: {}", String::from_utf8_lossy(&out.stderr));
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("port").port();
        let out = as_server_user(&bin.join("pg_ctl"))
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(base.join("server.log"))
            .arg("-o")
            .arg(format!("-p {port} -k {} -c listen_addresses=127.0.0.1", base.display()))
            .args(["-w", "-t", "60", "start"])
            .output()
            .expect("pg_ctl runs");
        let log = std::fs::read_to_string(base.join("server.log")).unwrap_or_default();
        assert!(out.status.success(), "the server did not start: {}\n{log}", String::from_utf8_lossy(&out.stderr));
        Server { bin, data, port }
    }

    fn connection(&self) -> String {
        format!("host=127.0.0.1 port={} user=aims dbname=postgres", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = as_server_user(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "fast", "-w", "stop"])
            .output();
        if let Some(base) = self.data.parent() {
            let _ = std::fs::remove_dir_all(base);
        }
    }
}

/// The connection string the projects' `AIMS_TEST_PG` names.
static CONNECTION: OnceLock<String> = OnceLock::new();

fn environment(name: &str) -> Option<String> {
    (name == "AIMS_TEST_PG").then(|| CONNECTION.get().cloned()).flatten()
}

fn project(name: &str, source: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("postgres_sources").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("project folder");
    std::fs::write(dir.join("policy.aims"), POLICY).expect("policy");
    let toml = format!("[[facts]]\npostgres = \"AIMS_TEST_PG\"\nentity = \"Sys\"\n{source}\n");
    std::fs::write(dir.join("aims.toml"), toml).expect("aims.toml");
    dir
}

fn load(dir: &Path) -> Result<Engine, LoadFailure> {
    Engine::load(dir, &LoadOptions { environment: Some(environment), ..LoadOptions::default() })
}

fn rows(engine: &Engine) -> Vec<String> {
    let sys = engine.program().entity_by_name("Sys").expect("Sys");
    let facts = engine.facts();
    (0..facts.len(sys))
        .map(|r| {
            let values = facts.values(sys, r).unwrap_or_default();
            values
                .iter()
                .map(|v| match v {
                    Value::Text(t) => t.to_string(),
                    Value::Enum(_, i) => ["low", "high"][*i as usize].to_string(),
                    Value::Int(n) => n.to_string(),
                    Value::Number(n) => n.to_string(),
                    Value::Date(d) => d.to_string(),
                    Value::Bool(b) => b.to_string(),
                    Value::Absent => "-".to_string(),
                    other => format!("{other:?}"),
                })
                .collect::<Vec<_>>()
                .join(" | ")
        })
        .collect()
}

fn problems(dir: &Path) -> Vec<(Code, String, String)> {
    match load(dir) {
        Ok(_) => panic!("{} loaded", dir.display()),
        Err(f) => f.diagnostics.iter().map(|d| (d.code, d.message.clone(), d.notes.join("; "))).collect(),
    }
}

#[test]
fn a_postgres_table_and_query_load_read_only_with_their_types_checked() {
    let Some(bin) = binaries() else {
        if std::env::var_os("AIMS_CI_TOOLS").is_some() {
            panic!("AIMS_CI_TOOLS is set but PostgreSQL's initdb and pg_ctl are not installed (apt-get install postgresql)");
        }
        eprintln!("skipped: PostgreSQL's initdb and pg_ctl are not installed (/usr/lib/postgresql/*/bin); set AIMS_CI_TOOLS=1 to require them");
        return;
    };
    let server = Server::start(bin);
    let _ = CONNECTION.set(server.connection());
    let mut client = postgres::Client::connect(&server.connection(), postgres::NoTls).expect("connects");
    client
        .batch_execute(
            "CREATE TYPE tier AS ENUM ('low', 'high');
             CREATE TABLE systems (id text PRIMARY KEY, tier tier NOT NULL, n int4, score numeric(5,2),
                                   reviewed date, active boolean, checked timestamptz, token uuid, photo bytea);
             INSERT INTO systems VALUES
               ('s2', 'low', 4, 0.50, '2026-02-01', false, '2026-02-01 00:00:00+00', gen_random_uuid(), '\\x00ff'),
               ('s1', 'high', 3, 12.25, NULL, true, '2026-01-31 10:30:00+00', NULL, NULL);
             CREATE TABLE messy (id varchar(10), tier text, n text, reviewed text, active text);
             INSERT INTO messy VALUES ('a', 'HIGH', '7', '01/31/2026', 'Yes'), ('b', 'medium', 'x', NULL, NULL);",
        )
        .expect("schema");

    // A table: in key order, every typed column read as its field.
    let dir = project("table", "table = \"systems\"\nignore = [\"checked\", \"token\", \"photo\"]");
    let engine = load(&dir).unwrap_or_else(|f| panic!("{:?}", f.diagnostics));
    assert_eq!(rows(&engine), ["s1 | high | 3 | 12.25 | - | true", "s2 | low | 4 | 0.50 | 2026-02-01 | false"]);

    // A query keeps its order; a timestamp at midnight is a date.
    let dir = project("query", "query = \"SELECT id, tier, checked AS reviewed FROM systems ORDER BY id DESC\"");
    let found = problems(&dir);
    assert_eq!(
        found,
        [(
            Code::FactType,
            "`2026-01-31T10:30:00` (a date and time) is not a date without a time of day".to_string(),
            "row 2, column `reviewed` of query `SELECT id, tier, checked AS reviewed FROM systems ORDER BY id DESC`"
                .to_string()
        )]
    );
    let dir = project(
        "query-ok",
        "query = \"SELECT id, tier, checked AS reviewed FROM systems WHERE id = 's2' ORDER BY id DESC\"",
    );
    assert_eq!(
        rows(&load(&dir).unwrap_or_else(|f| panic!("{:?}", f.diagnostics))),
        ["s2 | low | 0 | - | 2026-02-01 | false"]
    );

    // Declared types that cannot be the fields': refused before any row.
    let dir = project("types", "query = \"SELECT id, tier, token AS n, photo AS score FROM systems\"");
    let found: Vec<(Code, String)> = problems(&dir).into_iter().map(|(c, m, _)| (c, m)).collect();
    assert_eq!(
        found,
        [
            (
                Code::FactColumnType,
                "column `n` of query `SELECT id, tier, token AS n, photo AS score FROM systems` is `uuid`, which cannot hold a whole number (field `Sys.n`)".to_string()
            ),
            (
                Code::FactColumnType,
                "column `score` of query `SELECT id, tier, token AS n, photo AS score FROM systems` is `bytea`, which cannot hold a number (field `Sys.score`)".to_string()
            ),
        ]
    );

    // Text columns go through the mapping options, with errors by row and column.
    let dir = project(
        "messy",
        "table = \"messy\"\nignore_case = true\ndate_format = \"%m/%d/%Y\"\nvalues = { Yes = \"true\" }",
    );
    let found = problems(&dir);
    assert_eq!(
        found.iter().map(|(c, m, n)| (*c, m.as_str(), n.as_str())).collect::<Vec<_>>(),
        [
            (
                Code::FactType,
                "column `tier`: 1 value is not a `Tier` value (first: `medium`, row 2, column `tier` of table `messy`)",
                ""
            ),
            (
                Code::FactType,
                "column `n`: 1 value is not a whole number (first: `x`, row 2, column `n` of table `messy`)",
                ""
            ),
            (Code::FactType, "`medium` is not a `Tier` value", "row 2, column `tier` of table `messy`"),
            (Code::FactType, "`x` is not a whole number", "row 2, column `n` of table `messy`"),
        ]
    );

    // Composite keys, labels and data-quality mode, as for every table source.
    client
        .batch_execute(
            "CREATE TABLE uses (n serial, agency text, name text, tier text, active text);
             INSERT INTO uses (agency, name, tier, active) VALUES
               ('Benefits', 'Chatbot', 'low', 'yes'), ('Health', 'Chatbot', 'Hihg', 'no'),
               ('Benefits', 'Triage', 'HIGH', 'maybe');",
        )
        .expect("uses");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("postgres_sources").join("uses");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("project folder");
    std::fs::write(
        dir.join("policy.aims"),
        "enum Tier { low, high }\nentity Use { id: Text key, agency: Text, name: Text, tier: Tier, active: Bool = false }\n\
         control c for u: Use { require u.tier == low }\n",
    )
    .expect("policy");
    let query = "SELECT agency, name, tier, active FROM uses ORDER BY n";
    std::fs::write(
        dir.join("aims.toml"),
        format!(
            "[[facts]]\npostgres = \"AIMS_TEST_PG\"\nquery = \"{query}\"\nentity = \"Use\"\nkey = [\"agency\", \"name\"]\n\
             label = \"{{name}} ({{agency}})\"\nbad_values = \"unknown\"\nignore_case = true\n"
        ),
    )
    .expect("aims.toml");
    let engine = load(&dir).unwrap_or_else(|f| panic!("{:?}", f.diagnostics));
    let uses = engine.program().entity_by_name("Use").expect("Use");
    let facts = engine.facts();
    let named: Vec<(String, String)> = (0..facts.len(uses))
        .map(|r| {
            let label = facts.row(uses, r).and_then(|row| row.label.clone()).unwrap_or_default();
            (facts.key_of(engine.program(), uses, r).to_string(), label.to_string())
        })
        .collect();
    assert_eq!(
        named,
        [
            ("Benefits / Chatbot".to_string(), "Chatbot (Benefits)".to_string()),
            ("Health / Chatbot".to_string(), "Chatbot (Health)".to_string()),
            ("Benefits / Triage".to_string(), "Triage (Benefits)".to_string()),
        ]
    );
    let places: Vec<String> =
        engine.data_quality().columns.iter().flat_map(|c| c.cells.iter().map(|cell| cell.location())).collect();
    assert_eq!(
        places,
        [format!("row 2, column `tier` of query `{query}`"), format!("row 3, column `active` of query `{query}`")]
    );

    // Read-only: a writing query fails and changes nothing.
    let dir = project("write", "query = \"DELETE FROM systems RETURNING id, tier\"");
    let found = problems(&dir);
    assert_eq!(found[0].0, Code::FactDatabase);
    assert!(found[0].1.contains("read-only transaction"), "{found:?}");
    let count: i64 = client.query_one("SELECT count(*) FROM systems", &[]).expect("count").get(0);
    assert_eq!(count, 2);

    // A server that does not answer.
    let _ = CONNECTION.set(String::new());
    drop(client);
    drop(server);
    let dir = project("gone", "table = \"systems\"");
    let found = problems(&dir);
    assert_eq!(found[0].0, Code::FactDatabase, "{found:?}");
    assert!(found[0].1.starts_with("`postgres:AIMS_TEST_PG`: cannot open the database"), "{found:?}");
}
