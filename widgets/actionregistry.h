#pragma once

#include "fleetsession.h"
#include "fleettypes.h"

#include <QHash>
#include <QKeySequence>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QString>

#include <functional>
#include <optional>

class QAction;
class QMenu;
class QSettings;
class QWidget;

namespace fleet {

class FleetSession; // (QPointer needs the type in moc output)

// What a user command is, written once: its stable id ("view.pause", "fleet.reconnect"), its text, shortcuts, a
// line of help, and when it may run.
struct ActionSpec
{
    ActionSpec() = default;
    ActionSpec(QString id, QString text, QList<QKeySequence> shortcuts = {}, QString help = {})
        : id(std::move(id))
        , text(std::move(text))
        , shortcuts(std::move(shortcuts))
        , help(std::move(help))
    {
    }

    QString id;
    QString text; // menu text, with & for the mnemonic
    QList<QKeySequence> shortcuts; // the first is the one shown
    QString help; // one line: the tooltip and the "?" overlay
    Qt::ShortcutContext context = Qt::WindowShortcut;
    bool needsConnection = false; // only with a live connection to a fleet
    std::optional<Role> role; // only for a token with at least this role
};

// One registry of the view's user commands: every command is one QAction registered once under a stable id; menus,
// context menus, toolbars and the "?" overlay are built from it, so nothing lists a shortcut by hand. Each action is
// enabled or disabled with a reason in words ("needs the operator role", "not connected"), shown in its tooltip and
// in the overlay. Role-aware enabling is one hook, driven by the session's identity and connection (bindSession).
class ActionRegistry : public QObject
{
    Q_OBJECT

public:
    // Returns why an action may not run now, or an empty string when it may.
    using Condition = std::function<QString()>;

    // Actions are added to `shortcutOwner` so that their shortcuts work in its window.
    explicit ActionRegistry(QWidget *shortcutOwner);

    QAction *add(const ActionSpec &spec, const std::function<void()> &handler); // registered once per id
    QAction *adopt(const ActionSpec &spec, QAction *action); // an action another object owns (the time window)
    QAction *action(const QString &id) const; // nullptr for an unknown id
    QStringList ids() const { return m_order; }
    const ActionSpec *spec(const QString &id) const;

    // A mouse gesture or key that is not an action of its own ("Drag / wheel": zoom), for the overlay.
    void addGesture(const QString &keys, const QString &what);

    struct HelpEntry
    {
        QString id; // empty for a gesture
        QString keys;
        QString what;
        QString disabledReason; // empty when enabled
    };
    // Every action with a shortcut, then the gestures, in registration order.
    QList<HelpEntry> helpEntries() const;

    // Appends the actions named in `ids` to `menu`; "-" is a separator.
    void fillMenu(QMenu *menu, const QStringList &ids) const;

    // The user's own shortcuts (KDE's KActionCollection::readSettings/writeSettings): `settings`' group "shortcuts"
    // holds one entry per command the user changed (its id -> its keys in portable text, empty for none), read over
    // the defaults once every command is registered. An entry for an unknown command, or whose keys another command
    // has, is left out (and said on the log).
    void readShortcuts(QSettings &settings);
    // Gives a command `keys` (std::nullopt: its defaults again) and keeps the choice in `settings`. Fails, changing
    // nothing, when another command has one of the keys; the message names it.
    Status setShortcuts(const QString &id, const std::optional<QList<QKeySequence>> &keys, QSettings &settings);
    // The id of the command that has `key`, other than `except`; empty when none does.
    QString usedBy(const QKeySequence &key, const QString &except = {}) const;

    void setCondition(const QString &id, Condition condition); // besides the connection and role rules
    void bindSession(FleetSession *session);
    void refresh(); // re-evaluates every action's enabled state and reason
    QString disabledReason(const QString &id) const;

Q_SIGNALS:
    void enabledStatesChanged();

private:
    struct Entry
    {
        ActionSpec spec;
        QPointer<QAction> action;
        Condition condition;
        QString reason;
    };
    QAction *registerAction(const ActionSpec &spec, QAction *action);
    QString evaluate(const Entry &entry) const;

    QPointer<QWidget> m_owner;
    QPointer<FleetSession> m_session;
    QHash<QString, Entry> m_entries;
    QStringList m_order;
    QList<QPair<QString, QString>> m_gestures;
};

} // namespace fleet
