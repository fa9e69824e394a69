#pragma once

namespace fleet {

class ConsoleWindow;

// The main window's user commands, written once (issue #22, item 5; Tiled's MapDocumentActionHandler and KDE's
// KActionCollection are the models): every command is registered in the window's ActionRegistry under its stable id,
// with its text, default shortcuts, help and the conditions that disable it with a reason; the menus, the tray menu
// and the charts' context menus are then built from the registry, so the "?" overlay, role refresh and the user's own
// shortcuts (ActionRegistry::readShortcuts) cover every command. ConsoleWindow keeps the state the commands act on.
class ConsoleCommands
{
public:
    static void define(ConsoleWindow *window); // every command, into window->actions()
    static void buildMenus(ConsoleWindow *window); // the menu bar, the tray menu and the charts' menus
};

} // namespace fleet
