// The page's one state object, and the boot data the server rendered into the page.

/**
 * A persona as the page knows it: what choosing it sets, and its defaults.
 * @typedef {Object} PersonaInfo
 * @property {string} name
 * @property {string} model  Its model; "" leaves the model to the default.
 * @property {string[]} tools
 * @property {string} tool_choice
 * @property {number|null} temperature
 * @property {number|null} top_p
 * @property {number|null} max_tokens
 * @property {string} system_prompt
 */

/**
 * What the server put in `{{ boot|json_script:"boot" }}`; read once, never changed.
 * @typedef {Object} Boot
 * @property {number} user  The signed-in user's id (drafts are kept per user).
 * @property {number|null} conversation  The conversation the page opened with.
 * @property {number} maxChars  The longest message the server accepts.
 * @property {boolean} enterToSend  Enter sends (Settings); when false, Ctrl/Cmd+Enter does.
 * @property {string} defaultModel  The model a chat without a persona's or a chosen one uses.
 * @property {boolean} shareAnyone  Share links may be open to anyone (CHAT_SHARE_ANYONE).
 * @property {{persona: number|null, model: string}} newChat  What a new chat starts with
 *   (Settings): a persona, and a model chosen over the persona's ("" for none).
 * @property {SidebarItem[]} conversations  The sidebar's conversations (not archived).
 * @property {Object<string, PersonaInfo>} personas  By persona id.
 * @property {{name: string, description: string}[]} tools  The tools a reply may call.
 */

/**
 * A conversation as the sidebar shows it (`outbound.conversation_data` on the server).
 * @typedef {Object} SidebarItem
 * @property {number} id
 * @property {string} title
 * @property {boolean} pinned
 * @property {boolean} archived
 * @property {string} updated_at  ISO 8601.
 * @property {boolean} [temporary]  Always false here: a temporary chat is never listed.
 */

/**
 * A conversation's own parameters, over its persona's: null (or "") follows the persona.
 * @typedef {Object} Params
 * @property {number|null} temperature
 * @property {number|null} top_p
 * @property {number|null} max_tokens
 * @property {string} system_prompt
 */

/**
 * A model in the picker (`/models.json`).
 * @typedef {Object} ModelInfo
 * @property {string} id
 * @property {string} name
 * @property {string} family
 * @property {number} context_window
 * @property {boolean} supports_tools
 */

/**
 * A message on screen: its element and the parts that streaming updates.
 * @typedef {Object} MessageNode
 * @property {HTMLElement} el  The whole message.
 * @property {HTMLElement} body  Its text (for a tool result, the card).
 * @property {HTMLElement} [done]  A streaming reply's finished blocks (server-sanitized HTML).
 * @property {HTMLElement} [preview]  A streaming reply's open block, previewed in the page.
 * @property {HTMLElement} reasoning  The reasoning disclosure.
 * @property {number|null} seq  The last `message.delta` applied; null when the reply was
 *   shown from saved text and cannot be lined up with live deltas.
 * @property {string} text  The reply's text so far.
 * @property {number} stable  How many characters of `text` the finished blocks cover, in
 *   Unicode code points as the server counts them (not UTF-16 code units).
 * @property {{points: number, units: number}} [stableAt]  `stable` in code points and in
 *   UTF-16 code units of `text`, as last converted (stream.js).
 * @property {number} [previewCost]  What the last preview took, in ms (previews back off).
 * @property {boolean} [previewQueued]  A preview is scheduled.
 * @property {number|null} [thinkingSince]  When live reasoning began (ms, page clock).
 * @property {Object} message  The message as the server sent it.
 */

/**
 * What is being written right now.
 * @typedef {Object} Streaming
 * @property {"idle"|"reply"|"tools"} phase  "reply": a reply is streaming; "tools": a reply
 *   called tools, and their results and the next reply are on their way.
 * @property {number|null} messageId  The streaming reply in phase "reply"; otherwise null.
 */

/**
 * The sidebar's own state.
 * @typedef {Object} SidebarState
 * @property {Map<number, SidebarItem>} items  Every conversation the page knows of, by id.
 * @property {boolean} showingArchived  The archived view is shown instead of the list.
 * @property {boolean} archivedFailed  The archived conversations could not be loaded.
 */

/**
 * What the next reply is sent with: the persona, the model and this chat's parameters.
 * Mirrors the conversation on the server once it exists (`conversation.state`/`updated`).
 * @typedef {Object} Choices
 * @property {number|null} persona
 * @property {string} model  The model the next reply uses.
 * @property {boolean} modelChosen  The user chose `model` for this chat, over the persona's.
 * @property {Params} params
 */

/**
 * Everything the chat page keeps track of; every module reads and writes this one object.
 * @typedef {Object} ChatState
 * @property {number|null} conversationId  The open conversation; null on a new chat until
 *   its first message is saved.
 * @property {boolean} connected  The socket is open.
 * @property {Streaming} streaming
 * @property {boolean} stickToBottom  The reader is at the bottom, so new output scrolls into view.
 * @property {boolean} loadingOlder  A `conversation.history` request is on its way.
 * @property {Map<number, MessageNode>} nodes  Message id -> its node on screen.
 * @property {Map<string, {frame: Object, el: HTMLElement|null}>} pending  client_id -> a sent
 *   frame the server has not acknowledged yet, and its placeholder message (if any).
 * @property {Map<number, string>} titles  Conversation id -> title, from `conversation.created`.
 * @property {Map<string, {id: string, name: string, arguments: string}>} toolCalls  Tool call
 *   id -> the call, for the tool result cards.
 * @property {Choices} choices
 * @property {ModelInfo[]} models  The models to pick from.
 * @property {SidebarState} sidebar
 */

/** @type {Boot} */
export const boot = JSON.parse(document.getElementById("boot").textContent);

/** @returns {Params} A chat that follows its persona in everything. */
export function noParams() {
  return { temperature: null, top_p: null, max_tokens: null, system_prompt: "" };
}

/** @returns {Choices} What a new chat starts with: the user's default persona and model. */
export function newChatChoices() {
  const persona = boot.newChat.persona !== null && boot.personas[boot.newChat.persona] ? boot.newChat.persona : null;
  const followed = (persona !== null && boot.personas[persona].model) || boot.defaultModel;
  const model = boot.newChat.model || followed;
  return { persona, model, modelChosen: model !== followed, params: noParams() };
}

/** @type {ChatState} */
export const state = {
  conversationId: boot.conversation,
  connected: false,
  streaming: { phase: "idle", messageId: null },
  stickToBottom: true,
  loadingOlder: false,
  nodes: new Map(),
  pending: new Map(),
  titles: new Map(),
  toolCalls: new Map(),
  choices: newChatChoices(),
  models: [],
  sidebar: {
    items: new Map(boot.conversations.map((item) => [item.id, item])),
    showingArchived: false,
    archivedFailed: false,
  },
};

/** A reply is streaming, or tool results and the reply after them are on their way. */
export function isStreaming() {
  return state.streaming.phase !== "idle";
}
