//! Policy enforcement for every Virga service, compatible with oslo.policy.
//!
//! Policy is data: each API endpoint has a named rule (`"compute:servers:delete"`)
//! saying who may call it. A service ships its defaults as a `policy.yaml`
//! embedded in the binary, and the operator may override any rule, or add
//! helper rules, with their own file named in the service's configuration:
//!
//! ```
//! use virga_policy::{Credentials, Policy, Target};
//!
//! // In a service: `const DEFAULTS: &str = include_str!("policy.yaml");`
//! const DEFAULTS: &str = r#"
//! "admin_required": "role:admin"
//! "owner": "project_id:%(project_id)s"
//! "compute:servers:delete": "rule:admin_required or (rule:owner and role:member)"
//! "#;
//! // `Policy::from_file(DEFAULTS, &config.policy_file)` when one is configured.
//! let policy = Policy::load(DEFAULTS, None)?;
//!
//! let creds = Credentials {
//!     project_id: Some("p1".into()),
//!     roles: vec!["member".into()],
//!     ..Credentials::default()
//! };
//! let server = Target::new().with("project_id", "p1");
//! assert!(policy.enforce("compute:servers:delete", &creds, &server)?);
//! let other = Target::new().with("project_id", "p2");
//! assert!(!policy.enforce("compute:servers:delete", &creds, &other)?);
//! # Ok::<(), virga_policy::PolicyError>(())
//! ```
//!
//! Every rule is parsed, every `rule:` reference resolved and the reference
//! graph checked for cycles when the policy is loaded, so a broken operator
//! file stops the service at startup instead of denying (or allowing)
//! requests at random. Enforcement walks the compiled tree: no parsing, no
//! allocation beyond target lookups. A name with no rule is
//! [`PolicyError::UnknownAction`], which callers log and treat as a deny.
//!
//! # The rule language
//!
//! oslo.policy's, as in its `policy.yaml` documentation:
//!
//! | rule | true when |
//! |---|---|
//! | `""` (empty), `@` | always |
//! | `!` | never |
//! | `role:admin` | the caller has role `admin`, compared case-insensitively |
//! | `rule:owner` | rule `owner` of this policy is true |
//! | `project_id:%(project_id)s` | the credential attribute equals the target's `project_id` |
//! | `domain_id:%(target.domain_id)s` | the same, with a dotted target key (just a key here) |
//! | `system_scope:all` | the credential attribute equals the literal `all` |
//! | `'member':%(role.name)s` | the literal equals the target's `role.name` |
//! | `True:%(enabled)s` | the target's `enabled` is `True` (also `False`) |
//! | `not A`, `A and B`, `A or B`, `(A)` | as expected; `not` binds tightest, then `and`, then `or` |
//!
//! Credential attributes are the fields of [`Credentials`]: `user_id`,
//! `user_domain_id`, `project_id`, `project_domain_id`, `domain_id`,
//! `system_scope` and `roles` (the last element-wise and case-sensitive, as
//! in oslo). A check reading an absent credential attribute or target key is
//! false. Matches may mix text and substitutions (`proj-%(id)s`); `%%` is a
//! literal `%`.
//!
//! Tokens are separated by whitespace; parentheses may touch the tokens they
//! enclose (`(role:admin or role:reader)`). `and`, `or` and `not` are
//! case-insensitive. In YAML, quote rules that start with `@` or `!`.
//!
//! Where oslo logs and fails closed, this refuses to load: a dangling
//! operator, unbalanced parentheses, a token that is not a check, a check
//! kind that is neither `role`, `rule`, a literal nor a credential attribute
//! (oslo's `http:` checks and its pre-YAML list-of-lists syntax are not
//! supported), or a reference to an undefined rule.

mod check;
mod credentials;
mod document;
mod error;
mod graph;
mod lexer;
mod parser;
mod policy;
mod target;
mod template;

pub use credentials::Credentials;
pub use error::{Origin, ParseError, ParseErrorKind, PolicyError};
pub use policy::Policy;
pub use target::Target;
