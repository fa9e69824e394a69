#include "actionregistry.h"

#include "fleetsession.h"

#include <QAction>
#include <QLoggingCategory>
#include <QMenu>
#include <QSettings>
#include <QWidget>

namespace fleet {

namespace {

QString plainText(const QString &menuText)
{
    return QString(menuText).remove(QLatin1Char('&')).remove(QStringLiteral("…")).trimmed();
}

} // namespace

ActionRegistry::ActionRegistry(QWidget *shortcutOwner)
    : QObject(shortcutOwner)
    , m_owner(shortcutOwner)
{
}

QAction *ActionRegistry::registerAction(const ActionSpec &spec, QAction *action)
{
    Q_ASSERT_X(!m_entries.contains(spec.id), "ActionRegistry", "an action id is registered once");
    action->setObjectName(spec.id);
    action->setText(spec.text);
    action->setShortcuts(spec.shortcuts);
    action->setShortcutContext(spec.context);
    m_entries.insert(spec.id, Entry { spec, action, {}, {} });
    m_order.append(spec.id);
    if (m_owner && spec.context != Qt::WidgetShortcut && spec.context != Qt::WidgetWithChildrenShortcut)
        m_owner->addAction(action);
    refresh();
    return action;
}

QAction *ActionRegistry::add(const ActionSpec &spec, const std::function<void()> &handler)
{
    if (QAction *existing = action(spec.id))
        return existing;
    auto *a = new QAction(this);
    connect(a, &QAction::triggered, this, [handler] { handler(); });
    return registerAction(spec, a);
}

QAction *ActionRegistry::adopt(const ActionSpec &spec, QAction *action)
{
    if (QAction *existing = this->action(spec.id))
        return existing;
    return registerAction(spec, action);
}

QAction *ActionRegistry::action(const QString &id) const
{
    const auto it = m_entries.constFind(id);
    return it == m_entries.cend() ? nullptr : it->action.data();
}

const ActionSpec *ActionRegistry::spec(const QString &id) const
{
    const auto it = m_entries.constFind(id);
    return it == m_entries.cend() ? nullptr : &it->spec;
}

void ActionRegistry::addGesture(const QString &keys, const QString &what)
{
    m_gestures.append({ keys, what });
}

QList<ActionRegistry::HelpEntry> ActionRegistry::helpEntries() const
{
    QList<HelpEntry> out;
    for (const QString &id : m_order) {
        const Entry &e = m_entries[id];
        if (!e.action || e.action->shortcut().isEmpty())
            continue;
        QStringList keys;
        for (const QKeySequence &k : e.action->shortcuts()) {
            const QString text = k.toString(QKeySequence::NativeText);
            // "Shift+?" is how some keyboards report "?": one key for the reader, not two.
            if (!keys.contains(text) && !keys.contains(QString(text).remove(QStringLiteral("Shift+"))))
                keys.append(text);
        }
        out.append(HelpEntry { id, keys.join(QStringLiteral(" / ")),
            e.spec.help.isEmpty() ? plainText(e.spec.text) : e.spec.help, e.reason });
    }
    for (const auto &[keys, what] : m_gestures)
        out.append(HelpEntry { QString(), keys, what, QString() });
    return out;
}

void ActionRegistry::fillMenu(QMenu *menu, const QStringList &ids) const
{
    menu->setToolTipsVisible(true); // a disabled entry says why in its tooltip
    for (const QString &id : ids) {
        if (id == QLatin1String("-"))
            menu->addSeparator();
        else if (QAction *a = action(id))
            menu->addAction(a);
    }
}

QString ActionRegistry::usedBy(const QKeySequence &key, const QString &except) const
{
    if (key.isEmpty())
        return {};
    for (const QString &id : m_order) {
        const Entry &e = m_entries[id];
        if (id != except && e.action && e.action->shortcuts().contains(key))
            return id;
    }
    return {};
}

void ActionRegistry::readShortcuts(QSettings &settings)
{
    settings.beginGroup(QStringLiteral("shortcuts"));
    const QStringList chosen = settings.childKeys();
    // Every command the user chose for gives up its default first: a key moved from one to another is free in any
    // order the settings list them.
    for (const QString &id : chosen)
        if (QAction *a = action(id))
            a->setShortcuts({});
    for (const QString &id : chosen) {
        QAction *a = action(id);
        const QList<QKeySequence> keys
            = QKeySequence::listFromString(settings.value(id).toString(), QKeySequence::PortableText);
        QString taken;
        for (const QKeySequence &k : keys)
            if (taken.isEmpty())
                taken = usedBy(k, id);
        if (!a || !taken.isEmpty()) {
            if (a)
                a->setShortcuts(m_entries[id].spec.shortcuts);
            qWarning().noquote() << QStringLiteral("shortcuts: %1 %2")
                                        .arg(id,
                                            a ? QStringLiteral("left at its default: the keys are %1's").arg(taken)
                                              : QStringLiteral("is not a command; left out"));
            continue;
        }
        a->setShortcuts(keys);
    }
    settings.endGroup();
    Q_EMIT enabledStatesChanged(); // the overlay lists the keys
}

Status ActionRegistry::setShortcuts(
    const QString &id, const std::optional<QList<QKeySequence>> &keys, QSettings &settings)
{
    const auto it = m_entries.find(id);
    if (it == m_entries.end() || !it->action)
        return Status::failure(tr("There is no command %1.").arg(id));
    const QList<QKeySequence> wanted = keys.value_or(it->spec.shortcuts);
    for (const QKeySequence &k : wanted) {
        if (const QString other = usedBy(k, id); !other.isEmpty())
            return Status::failure(
                tr("%1 is already the shortcut of “%2”: change that one first.")
                    .arg(k.toString(QKeySequence::NativeText), plainText(m_entries[other].spec.text)));
    }
    it->action->setShortcuts(wanted);
    const QString key = QStringLiteral("shortcuts/") + id;
    if (keys)
        settings.setValue(key, QKeySequence::listToString(wanted, QKeySequence::PortableText));
    else
        settings.remove(key);
    Q_EMIT enabledStatesChanged();
    return Status::success();
}

void ActionRegistry::setCondition(const QString &id, Condition condition)
{
    const auto it = m_entries.find(id);
    if (it == m_entries.end())
        return;
    it->condition = std::move(condition);
    refresh();
}

void ActionRegistry::bindSession(FleetSession *session)
{
    if (m_session)
        m_session->disconnect(this);
    m_session = session;
    if (session) {
        connect(session, &FleetSession::identityChanged, this, &ActionRegistry::refresh);
        connect(session, &FleetSession::statusChanged, this, &ActionRegistry::refresh);
        connect(session, &FleetSession::profileChanged, this, &ActionRegistry::refresh);
        connect(session, &FleetSession::replayChanged, this, &ActionRegistry::refresh);
    }
    refresh();
}

QString ActionRegistry::evaluate(const Entry &e) const
{
    // The role hook: one place decides from the session's connection and identity.
    if (e.spec.needsConnection || e.spec.role) {
        if (m_session && m_session->isReplaying())
            return tr("this is a replay of a recorded incident: nothing here reaches a fleet");
        if (!m_session)
            return tr("not connected to a fleet");
        if (e.spec.role) {
            if (const QString why = m_session->whyCannotAct(*e.spec.role); !why.isEmpty())
                return why;
        } else if (!m_session->isLive()) {
            return m_session->connection() ? tr("the connection is not live") : tr("not connected to a fleet");
        }
    }
    return e.condition ? e.condition() : QString();
}

void ActionRegistry::refresh()
{
    bool changed = false;
    for (Entry &e : m_entries) {
        if (!e.action)
            continue;
        const QString reason = evaluate(e);
        const QString tip = reason.isEmpty()
            ? (e.spec.help.isEmpty() ? plainText(e.spec.text) : e.spec.help)
            : tr("%1 (unavailable: %2)").arg(e.spec.help.isEmpty() ? plainText(e.spec.text) : e.spec.help, reason);
        if (reason != e.reason || e.action->isEnabled() == !reason.isEmpty() || e.action->toolTip() != tip) {
            e.reason = reason;
            e.action->setEnabled(reason.isEmpty());
            e.action->setToolTip(tip);
            e.action->setStatusTip(tip);
            changed = true;
        }
    }
    if (changed)
        Q_EMIT enabledStatesChanged();
}

QString ActionRegistry::disabledReason(const QString &id) const
{
    const auto it = m_entries.constFind(id);
    return it == m_entries.cend() ? QString() : it->reason;
}

} // namespace fleet
