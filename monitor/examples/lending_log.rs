//! Writes the decisions log of `examples/lending-monitoring` (see
//! `aims_monitor::sample`):
//! `cargo run --release -p aims-monitor --example lending_log -- FOLDER [ROWS]`
//! (1,200,000 rows by default).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let folder = std::path::PathBuf::from(args.next().ok_or("usage: lending_log FOLDER [ROWS]")?);
    let rows: usize = args.next().map(|n| n.replace('_', "").parse()).transpose()?.unwrap_or(1_200_000);
    for (month, decisions) in aims_monitor::sample::write_lending_log(&folder, rows)? {
        println!("{month}: {decisions} decisions");
    }
    Ok(())
}
