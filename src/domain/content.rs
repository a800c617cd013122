//! What a page says, independent of storage and of wire format: the block
//! types of DESIGN §8 and Notion's rich text, reduced to what pagegrant
//! keeps. `domain::blocks` stores and serves these, `domain::markdown`
//! converts them to and from Markdown, the page view renders them, and the
//! MCP tools read and write them through the same two modules.

use serde::{Deserialize, Serialize};

// Stored as text beside the other stored enums; re-exported here, where
// the rest of a page's content lives.
pub use crate::db::models::BlockType;

/// Notion's text annotations that pagegrant keeps; `color` is always
/// `"default"` on the wire and not stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Annotations {
    #[serde(default)]
    pub bold: bool,
    #[serde(default)]
    pub italic: bool,
    #[serde(default)]
    pub strikethrough: bool,
    #[serde(default)]
    pub underline: bool,
    #[serde(default)]
    pub code: bool,
}

/// One `text` element of a `rich_text` array: a run of characters with one
/// set of annotations and an optional link.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    pub text: String,
    #[serde(default)]
    pub annotations: Annotations,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub href: Option<String>,
}

impl Span {
    pub fn plain(text: impl Into<String>) -> Span {
        Span {
            text: text.into(),
            ..Span::default()
        }
    }
}

/// A block's content: its type, its text as spans, whether a to-do is
/// checked, and a code block's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockContent {
    pub kind: BlockType,
    pub spans: Vec<Span>,
    pub checked: bool,
    pub language: Option<String>,
}

impl BlockContent {
    pub fn new(kind: BlockType, spans: Vec<Span>) -> BlockContent {
        BlockContent {
            kind,
            spans,
            checked: false,
            language: None,
        }
    }

    /// The text without annotations (Notion's `plain_text`, and what search reads).
    pub fn plain_text(&self) -> String {
        self.spans.iter().map(|s| s.text.as_str()).collect()
    }
}

/// Who wrote a block: a person (the page view, the CLI) or a connection's
/// bot (the API and the MCP tools). Notion reports both as `created_by` /
/// `last_edited_by` user objects of type `person` or `bot`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Author {
    User(crate::db::models::UserId),
    Bot(crate::db::models::BotId),
}
