//! A small command-line reader: `--name value`, `--name=value` and `--flag`, anything
//! else an error. Hand-written rather than clap: the subcommands have a dozen options
//! between them, and this keeps a proc-macro (or clap's builder and its help
//! machinery) out of a tool whose build time counts in CI.

use std::str::FromStr;

/// The arguments after the subcommand, consumed option by option.
#[derive(Debug)]
pub struct Args {
    rest: Vec<String>,
}

impl Args {
    /// The arguments to read.
    pub fn new(args: Vec<String>) -> Self {
        Self { rest: args }
    }

    /// Whether `--name` was given (and removes it).
    pub fn flag(&mut self, name: &str) -> bool {
        let option = format!("--{name}");
        let before = self.rest.len();
        self.rest.retain(|arg| *arg != option);
        self.rest.len() != before
    }

    /// The value of `--name value` or `--name=value`, if given (and removes it).
    pub fn value(&mut self, name: &str) -> Result<Option<String>, String> {
        let option = format!("--{name}");
        let prefix = format!("--{name}=");
        if let Some(at) = self.rest.iter().position(|arg| *arg == option) {
            if at + 1 >= self.rest.len() {
                return Err(format!("{option} needs a value"));
            }
            let value = self.rest.remove(at + 1);
            self.rest.remove(at);
            return Ok(Some(value));
        }
        if let Some(at) = self.rest.iter().position(|arg| arg.starts_with(&prefix)) {
            return Ok(Some(self.rest.remove(at)[prefix.len()..].to_owned()));
        }
        Ok(None)
    }

    /// The value of `--name` parsed as `T`, if given.
    pub fn parsed<T: FromStr>(&mut self, name: &str) -> Result<Option<T>, String>
    where
        T::Err: std::fmt::Display,
    {
        match self.value(name)? {
            Some(value) => value.parse().map(Some).map_err(|e| format!("--{name} {value:?}: {e}")),
            None => Ok(None),
        }
    }

    /// Fails if anything was not consumed.
    pub fn finish(self) -> Result<(), String> {
        if self.rest.is_empty() { Ok(()) } else { Err(format!("unexpected arguments: {}", self.rest.join(" "))) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_values_flags_and_refuses_leftovers() {
        let mut args = Args::new(["--rate", "10", "--max", "--store=sqlite"].map(String::from).to_vec());
        assert!(args.flag("max"));
        assert_eq!(args.parsed::<u32>("rate").unwrap(), Some(10));
        assert_eq!(args.value("store").unwrap().as_deref(), Some("sqlite"));
        assert_eq!(args.value("db").unwrap(), None);
        args.finish().unwrap();
        let mut args = Args::new(vec!["--rate".into()]);
        assert!(args.value("rate").is_err());
        assert!(Args::new(vec!["x".into()]).finish().is_err());
    }
}
