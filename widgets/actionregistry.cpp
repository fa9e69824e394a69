#include "actionregistry.h"

#include "fleetsession.h"

#include <QAction>
#include <QMenu>
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
    }
    refresh();
}

QString ActionRegistry::evaluate(const Entry &e) const
{
    // The role hook: one place decides from the session's connection and identity.
    if (e.spec.needsConnection || e.spec.role) {
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
