//! The command line of a simulated container: parses `sh -c '...'` scripts (quotes, `;`, `&&`,
//! `||`, `| wc -l`, `2>/dev/null`, `2>&1`, `>/dev/null`) and dispatches argv to the built-in
//! commands. There is no process spawning anywhere: unknown commands exit 127.

use super::container::Container;
use super::{commands, tar};
use std::cell::RefCell;
use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};

/// Exit status of a command, as the shell sees it.
pub type ExitCode = i32;

/// The standard streams of a running command plus the flag that says the client went away.
pub struct Io<'a> {
    pub stdin: &'a mut dyn Read,
    pub stdout: &'a mut dyn Write,
    pub stderr: &'a mut dyn Write,
    pub cancel: &'a AtomicBool,
}

impl Io<'_> {
    /// Writes one line to stderr; a client that is gone cannot read it anyway.
    pub fn err_line(&mut self, line: impl std::fmt::Display) {
        let _ = writeln!(self.stderr, "{line}");
    }

    pub fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}

/// Shell parse failure (reported as `sh: ...` with exit 2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("unterminated quoted string")]
    UnterminatedQuote,
    #[error("syntax error: unexpected \"{0}\"")]
    Unexpected(String),
    #[error("{0} is not supported by the simulated container")]
    Unsupported(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    Op(&'static str),
}

fn tokenize(script: &str) -> Result<Vec<Token>, ParseError> {
    let mut out = Vec::new();
    let mut chars = script.chars().peekable();
    let mut word = String::new();
    let mut in_word = false;
    macro_rules! end_word {
        () => {
            if std::mem::take(&mut in_word) {
                out.push(Token::Word(std::mem::take(&mut word)));
            }
        };
    }
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => end_word!(),
            '\n' | ';' => {
                end_word!();
                out.push(Token::Op(";"));
            }
            '#' if !in_word => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push(Token::Op(";"));
                        break;
                    }
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err(ParseError::UnterminatedQuote),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => word.push(c),
                            Some('\n') => {}
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => return Err(ParseError::UnterminatedQuote),
                        },
                        Some(c) => word.push(c),
                        None => return Err(ParseError::UnterminatedQuote),
                    }
                }
            }
            '\\' => match chars.next() {
                Some('\n') => {}
                Some(c) => {
                    in_word = true;
                    word.push(c);
                }
                None => {}
            },
            '|' | '&' => {
                end_word!();
                let doubled = chars.peek() == Some(&c);
                if doubled {
                    chars.next();
                }
                out.push(Token::Op(match (c, doubled) {
                    ('|', true) => "||",
                    ('|', false) => "|",
                    ('&', true) => "&&",
                    _ => "&",
                }));
            }
            '>' | '<' => {
                // `2>` and `2>&1`: a lone "2" word right before the operator is its fd.
                let fd2 = in_word && word == "2";
                if fd2 {
                    word.clear();
                    in_word = false;
                } else {
                    end_word!();
                }
                let op = match (c, fd2) {
                    ('<', _) => "<",
                    ('>', true) if chars.peek() == Some(&'&') => {
                        chars.next();
                        match chars.next() {
                            Some('1') => "2>&1",
                            other => {
                                return Err(ParseError::Unexpected(format!(
                                    "2>&{}",
                                    other.unwrap_or(' ')
                                )));
                            }
                        }
                    }
                    ('>', true) => "2>",
                    _ => {
                        if chars.peek() == Some(&'>') {
                            chars.next();
                        }
                        ">"
                    }
                };
                out.push(Token::Op(op));
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    end_word!();
    Ok(out)
}

/// One simple command with its redirections.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Simple {
    pub argv: Vec<String>,
    pub stdout_null: bool,
    pub stderr_null: bool,
    pub stderr_to_stdout: bool,
}

/// What a pipeline's output is folded into (the only pipelines the simulation runs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter {
    Lines,
    Bytes,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pipeline {
    pub command: Simple,
    pub counter: Option<Counter>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connector {
    Always,
    And,
    Or,
}

/// A parsed script: pipelines joined by `;`, `&&` and `||`.
pub type Script = Vec<(Connector, Pipeline)>;

pub fn parse(script: &str) -> Result<Script, ParseError> {
    let tokens = tokenize(script)?;
    let mut out = Script::new();
    let mut before = Connector::Always;
    let mut iter = tokens.into_iter().peekable();
    while iter.peek().is_some() {
        let mut stages: Vec<Simple> = vec![Simple::default()];
        let mut after = None;
        while let Some(tok) = iter.next() {
            let Some(cur) = stages.last_mut() else { break };
            match tok {
                Token::Word(w) => cur.argv.push(w),
                Token::Op("|") if cur.argv.is_empty() => {
                    return Err(ParseError::Unexpected("|".into()));
                }
                Token::Op("|") => stages.push(Simple::default()),
                Token::Op(op @ (";" | "&&" | "||")) => {
                    after = Some(op);
                    break;
                }
                Token::Op("2>&1") => cur.stderr_to_stdout = true,
                Token::Op(op @ (">" | "2>" | "<")) => match iter.next() {
                    Some(Token::Word(target)) if target == "/dev/null" => match op {
                        ">" => cur.stdout_null = true,
                        "2>" => cur.stderr_null = true,
                        _ => {}
                    },
                    Some(Token::Word(target)) => {
                        return Err(ParseError::Unsupported(format!("redirection to {target}")));
                    }
                    _ => return Err(ParseError::Unexpected(op.to_owned())),
                },
                Token::Op(op) => return Err(ParseError::Unsupported(format!("'{op}'"))),
            }
        }
        let mut stages = stages.into_iter();
        let command = stages.next().unwrap_or_default();
        let empty = command.argv.is_empty();
        match after {
            Some(op @ ("&&" | "||")) if empty => return Err(ParseError::Unexpected(op.to_owned())),
            _ if empty && stages.len() > 0 => return Err(ParseError::Unexpected("|".into())),
            _ => {}
        }
        if !empty {
            let counter = match stages.next() {
                None => None,
                Some(s) if s.argv.is_empty() => {
                    return Err(ParseError::Unexpected("end of input".into()));
                }
                Some(s) => Some(counter_of(&s.argv)?),
            };
            if stages.next().is_some() {
                return Err(ParseError::Unsupported(
                    "a pipeline of more than two commands".into(),
                ));
            }
            out.push((before, Pipeline { command, counter }));
        }
        before = match after {
            Some("&&") => Connector::And,
            Some("||") => Connector::Or,
            _ => Connector::Always,
        };
        if before != Connector::Always && iter.peek().is_none() {
            return Err(ParseError::Unexpected("end of input".into()));
        }
    }
    Ok(out)
}

fn counter_of(argv: &[String]) -> Result<Counter, ParseError> {
    match argv
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["wc", "-l"] => Ok(Counter::Lines),
        ["wc", "-c"] => Ok(Counter::Bytes),
        _ => Err(ParseError::Unsupported(format!(
            "piping into '{}' (only '| wc -l' and '| wc -c')",
            argv.join(" ")
        ))),
    }
}

/// Runs `argv` as the container's entry command.
pub fn run_argv(argv: &[String], c: &Container, io: &mut Io<'_>) -> ExitCode {
    let Some(first) = argv.first() else { return 0 };
    let name = command_name(first);
    let args = &argv[1..];
    let code = match name {
        "sh" | "bash" | "ash" | "dash" => run_shell(args, c, io),
        "exec" => run_argv(args, c, io),
        "tar" => tar::run(args, c, io),
        "true" | ":" => 0,
        "false" => 1,
        "exit" => args
            .first()
            .map_or(0, |a| a.parse::<ExitCode>().unwrap_or(2) & 0xff),
        _ => match commands::run(name, args, c, io) {
            Some(code) => code,
            None => {
                io.err_line(format_args!("sh: {first}: not found"));
                127
            }
        },
    };
    let _ = io.stdout.flush();
    let _ = io.stderr.flush();
    code
}

/// `/bin/tar` -> `tar`, for the usual binary directories.
fn command_name(arg0: &str) -> &str {
    for dir in [
        "/bin/",
        "/usr/bin/",
        "/sbin/",
        "/usr/sbin/",
        "/usr/local/bin/",
    ] {
        if let Some(rest) = arg0.strip_prefix(dir)
            && !rest.contains('/')
        {
            return rest;
        }
    }
    arg0
}

/// Limit on a script read from stdin (`sh` without `-c`).
const MAX_STDIN_SCRIPT: u64 = 1 << 20;

fn run_shell(args: &[String], c: &Container, io: &mut Io<'_>) -> ExitCode {
    let mut it = args.iter();
    let mut script = None;
    while let Some(a) = it.next() {
        if a.starts_with('-') && a.len() > 1 && !a.starts_with("--") {
            if a.contains('c') {
                script = it.next().cloned();
                if script.is_none() {
                    io.err_line("sh: -c requires an argument");
                    return 2;
                }
                break;
            }
            // -e, -u, -x, -s: accepted, no effect here.
        } else {
            io.err_line(format_args!("sh: 0: cannot open {a}: No such file"));
            return 2;
        }
    }
    let script = match script {
        Some(s) => s,
        None => {
            let mut s = String::new();
            if let Err(e) = Read::take(&mut *io.stdin, MAX_STDIN_SCRIPT).read_to_string(&mut s) {
                io.err_line(format_args!("sh: cannot read script: {e}"));
                return 2;
            }
            s
        }
    };
    run_script(&script, c, io)
}

pub fn run_script(script: &str, c: &Container, io: &mut Io<'_>) -> ExitCode {
    let parsed = match parse(script) {
        Ok(p) => p,
        Err(e) => {
            io.err_line(format_args!("sh: {e}"));
            return 2;
        }
    };
    let mut status = 0;
    for (connector, pipeline) in parsed {
        let run = match connector {
            Connector::Always => true,
            Connector::And => status == 0,
            Connector::Or => status != 0,
        };
        if io.cancelled() {
            return 130;
        }
        if run {
            let words: Vec<&str> = pipeline.command.argv.iter().map(String::as_str).collect();
            if let ["exit", rest @ ..] = words.as_slice() {
                return rest
                    .first()
                    .map_or(status, |a| a.parse::<ExitCode>().unwrap_or(2) & 0xff);
            }
            status = run_pipeline(&pipeline, c, io);
        }
    }
    status
}

fn run_pipeline(p: &Pipeline, c: &Container, io: &mut Io<'_>) -> ExitCode {
    match p.counter {
        None => run_simple(&p.command, c, io),
        Some(counter) => {
            let mut count = CountingWriter { counter, n: 0 };
            let status = {
                let mut sub = Io {
                    stdin: &mut *io.stdin,
                    stdout: &mut count,
                    stderr: &mut *io.stderr,
                    cancel: io.cancel,
                };
                run_simple(&p.command, c, &mut sub)
            };
            let _ = writeln!(io.stdout, "{}", count.n);
            // A pipeline's status is its last command's, and `wc` succeeds.
            let _ = status;
            0
        }
    }
}

fn run_simple(s: &Simple, c: &Container, io: &mut Io<'_>) -> ExitCode {
    let mut null_out = std::io::sink();
    let mut null_err = std::io::sink();
    if s.stderr_to_stdout {
        let shared = RefCell::new(if s.stdout_null {
            &mut null_out as &mut dyn Write
        } else {
            &mut *io.stdout
        });
        let mut out = SharedWriter(&shared);
        let mut err = SharedWriter(&shared);
        let mut sub = Io {
            stdin: &mut *io.stdin,
            stdout: &mut out,
            stderr: &mut err,
            cancel: io.cancel,
        };
        return run_argv(&s.argv, c, &mut sub);
    }
    let stdout: &mut dyn Write = if s.stdout_null {
        &mut null_out
    } else {
        &mut *io.stdout
    };
    let stderr: &mut dyn Write = if s.stderr_null {
        &mut null_err
    } else {
        &mut *io.stderr
    };
    let mut sub = Io {
        stdin: &mut *io.stdin,
        stdout,
        stderr,
        cancel: io.cancel,
    };
    run_argv(&s.argv, c, &mut sub)
}

struct SharedWriter<'r, 'w>(&'r RefCell<&'w mut dyn Write>);

impl Write for SharedWriter<'_, '_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.borrow_mut().flush()
    }
}

struct CountingWriter {
    counter: Counter,
    n: u64,
}

impl Write for CountingWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.n += match self.counter {
            Counter::Lines => buf.iter().filter(|b| **b == b'\n').count() as u64,
            Counter::Bytes => buf.len() as u64,
        };
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
