// The tools menu: which tools a message offers, and the tool choice; a persona sets the defaults.
import { currentPersona, onChoices } from "./choices.js";
import { $ } from "./page.js";
import { boot } from "./state.js";

const toolsList = $("tools-list");
const toolChoice = $("tool-choice");

/** The checked tools' names. */
export function chosenTools() {
  return [...toolsList.querySelectorAll("input:checked")].map((box) => box.value);
}

export function chosenToolChoice() {
  return toolChoice.value;
}

function updateToolsCount() {
  const count = chosenTools().length;
  $("tools-count").textContent = count ? `(${count})` : "";
}

/** Checks exactly these tools (a project's defaults, for a new chat in it). */
export function checkTools(names) {
  const tools = new Set(names);
  for (const box of toolsList.querySelectorAll("input")) box.checked = tools.has(box.value);
  updateToolsCount();
}

/** A persona's tools are the default; the menu can change them for each message. */
export function applyPersonaTools() {
  const persona = currentPersona();
  const tools = new Set(persona ? persona.tools : []);
  for (const box of toolsList.querySelectorAll("input")) box.checked = tools.has(box.value);
  toolChoice.value = persona ? persona.tool_choice : "auto";
  updateToolsCount();
}

/** One checkbox and one "always call" choice per tool (built-in ones first, then each
 * server's under its name; a tool that asks before each call says so), then the persona's
 * defaults. */
export function initTools() {
  const servers = new Map([["", []]]);
  for (const tool of boot.tools) {
    const server = tool.server || "";
    if (!servers.has(server)) servers.set(server, []);
    servers.get(server).push(tool);
  }
  for (const [server, tools] of servers) {
    if (!tools.length) continue;
    if (server) {
      const heading = document.createElement("div");
      heading.className = "tool-server";
      heading.textContent = `Server: ${server}`;
      toolsList.appendChild(heading);
    }
    for (const tool of tools) {
      const label = document.createElement("label");
      label.className = "tool-option";
      const box = document.createElement("input");
      box.type = "checkbox";
      box.value = tool.name;
      box.addEventListener("change", updateToolsCount);
      const name = document.createElement("strong");
      name.textContent = tool.name;
      const description = document.createElement("span");
      description.textContent = tool.description;
      label.append(box, name, description);
      if (tool.needs_approval) {
        const asks = document.createElement("span");
        asks.className = "tool-asks";
        asks.textContent = "Asks you before each call";
        label.appendChild(asks);
      }
      toolsList.appendChild(label);
      toolChoice.add(new Option(`always call ${tool.name}`, tool.name));
    }
  }
  for (const server of boot.tool_servers_down || []) {
    const heading = document.createElement("div");
    heading.className = "tool-server";
    heading.textContent = `Server: ${server}`;
    const note = document.createElement("p");
    note.className = "tool-down muted";
    note.textContent = "Not reachable just now: its tools are not offered.";
    toolsList.append(heading, note);
  }
  onChoices((personaChanged) => {
    if (personaChanged) applyPersonaTools();
  });
  applyPersonaTools();
}
