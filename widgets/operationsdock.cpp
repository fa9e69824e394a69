#include "operationsdock.h"

#include "silencespanel.h"

#include "activitymodels.h"
#include "fleetsession.h"
#include "fleetstore.h"
#include "localstore.h"

#include <QDateTime>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QPushButton>
#include <QStandardItemModel>
#include <QTabWidget>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>

namespace fleet {

namespace {

constexpr int kHandleRole = Qt::UserRole + 1;
constexpr int kJournalRole = Qt::UserRole + 2;
// The Activity tab lists the newest entries of the local audit log; older ones stay in the file (and the server's
// audit log). Rebuilding a 1,000-row list at every change of an action held the GUI thread 60-100 ms.
constexpr int kActivityRows = 200;

QTableView *table(QWidget *parent)
{
    auto *v = new QTableView(parent);
    v->setSelectionBehavior(QAbstractItemView::SelectRows);
    v->setSelectionMode(QAbstractItemView::SingleSelection);
    v->setEditTriggers(QAbstractItemView::NoEditTriggers);
    v->verticalHeader()->hide();
    v->horizontalHeader()->setStretchLastSection(true);
    v->setWordWrap(false);
    return v;
}

QStandardItem *textItem(const QString &text)
{
    auto *item = new QStandardItem(text); // QStandardItem shows plain text: a name with markup stays text
    item->setToolTip(text);
    return item;
}

} // namespace

OperationsDock::OperationsDock(FleetSession *session, QWidget *parent)
    : QWidget(parent)
    , m_session(session)
    , m_tabs(new QTabWidget(this))
    , m_activityModel(new QStandardItemModel(this))
{
    setObjectName(QStringLiteral("OperationsDock"));
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);

    auto *opsPage = new QWidget(this);
    auto *opsLayout = new QVBoxLayout(opsPage);
    m_operations = table(opsPage);
    m_operations->setObjectName(QStringLiteral("operationsView"));
    m_operations->setModel(session->operationModel());
    m_operations->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_operations->horizontalHeader()->setStretchLastSection(true);
    opsLayout->addWidget(m_operations, 1);
    m_expiry = new QLabel(opsPage);
    m_expiry->setTextFormat(Qt::PlainText);
    m_expiry->setWordWrap(true);
    m_expiry->setObjectName(QStringLiteral("expiry"));
    opsLayout->addWidget(m_expiry);
    auto *opsButtons = new QHBoxLayout;
    m_cancel = new QPushButton(tr("Cancel operation…"), opsPage);
    opsButtons->addWidget(m_cancel);
    opsButtons->addStretch(1);
    opsLayout->addLayout(opsButtons);
    m_tabs->addTab(opsPage, tr("Operations"));

    auto *activityPage = new QWidget(this);
    auto *activityLayout = new QVBoxLayout(activityPage);
    m_activity = table(activityPage);
    m_activity->setObjectName(QStringLiteral("activityView"));
    m_activity->setModel(m_activityModel);
    m_activity->verticalHeader()->setResizeContentsPrecision(0); // columns sized to the rows in view, not all 1,000
    activityLayout->addWidget(m_activity, 1);
    auto *activityButtons = new QHBoxLayout;
    m_undo = new QPushButton(tr("Undo…"), activityPage);
    m_undo->setToolTip(tr("A new action that reverses this one (drain ↔ resume, provisioned workers drained)"));
    activityButtons->addWidget(m_undo);
    // An action whose outcome is unknown (no answer, or one that could not be read): the fleet is asked again on a
    // backoff by itself; the engineer can ask now, or stop asking once they have checked the fleet themselves.
    m_lookAgain = new QPushButton(tr("&Look again"), activityPage);
    m_lookAgain->setObjectName(QStringLiteral("lookAgain"));
    m_giveUp = new QPushButton(tr("&Give up on it"), activityPage);
    m_giveUp->setObjectName(QStringLiteral("giveUp"));
    m_unknownHint = new QLabel(activityPage);
    m_unknownHint->setTextFormat(Qt::PlainText);
    m_unknownHint->setWordWrap(true);
    activityButtons->addWidget(m_lookAgain);
    activityButtons->addWidget(m_giveUp);
    activityButtons->addWidget(m_unknownHint, 1);
    activityLayout->addLayout(activityButtons);
    m_tabs->addTab(activityPage, tr("Activity (this console)"));
    m_silences = new SilencesPanel(session, this);
    m_tabs->addTab(m_silences, tr("Silences"));
    layout->addWidget(m_tabs);

    connect(
        m_operations->selectionModel(), &QItemSelectionModel::selectionChanged, this, &OperationsDock::updateButtons);
    connect(m_activity->selectionModel(), &QItemSelectionModel::selectionChanged, this, &OperationsDock::updateButtons);
    connect(session->operationModel(), &QAbstractItemModel::dataChanged, this, &OperationsDock::updateButtons);
    connect(m_cancel, &QPushButton::clicked, this, [this] {
        const QString op = selectedOperation();
        if (!op.isEmpty())
            Q_EMIT actionsRequested({ FleetAction::cancel(op, QString()) },
                tr("Cancel %1: provisioning workers stop, a drain ends and the region takes builds again.").arg(op));
    });
    connect(m_undo, &QPushButton::clicked, this, [this] {
        const int handle = selectedHandle();
        const auto undo = m_session->actions()->inverseOf(handle);
        if (!undo.isEmpty())
            Q_EMIT actionsRequested(undo, tr("Undo: %1").arg(m_session->actions()->find(handle)->action.describe()));
    });
    connect(m_lookAgain, &QPushButton::clicked, this, [this] { m_session->actions()->lookAgain(selectedHandle()); });
    connect(m_giveUp, &QPushButton::clicked, this, [this] { m_session->actions()->giveUp(selectedHandle()); });
    connect(session->actions(), &ActionController::trackedChanged, this, &OperationsDock::activityChanged);
    connect(session, &FleetSession::localStoreChanged, this, &OperationsDock::refreshActivity);
    auto *tick = new QTimer(this);
    tick->setInterval(1000);
    connect(tick, &QTimer::timeout, this, &OperationsDock::updateExpiry);
    tick->start();
    refreshActivity();
    updateButtons();
}

void OperationsDock::showActivity()
{
    m_tabs->setCurrentIndex(1);
}

void OperationsDock::showSilences()
{
    m_tabs->setCurrentWidget(m_silences);
}

void OperationsDock::refreshActivity()
{
    const int selected = selectedHandle();
    m_activityModel->clear();
    m_activityModel->setHorizontalHeaderLabels({ tr("When (UTC)"), tr("Who"), tr("Action"), tr("Outcome") });
    // This run's actions by journal id, for Undo.
    QHash<qint64, int> handles;
    for (const auto &t : m_session->actions()->tracked()) {
        if (t.journalId > 0)
            handles.insert(t.journalId, t.handle);
    }
    const auto add = [&](qint64 atMs, const QString &who, const QString &what, const QString &outcome, int handle,
                         qint64 journalId) {
        QList<QStandardItem *> row {
            textItem(QDateTime::fromMSecsSinceEpoch(atMs, Qt::UTC).toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"))),
            textItem(who), textItem(what), textItem(outcome)
        };
        row.front()->setData(handle, kHandleRole);
        row.front()->setData(journalId, kJournalRole);
        m_activityModel->insertRow(0, row); // newest first
    };
    LocalStore *local = m_session->localStore();
    const auto journal
        = local->isOpen() ? local->journal(kActivityRows) : Result<QList<LocalStore::JournalEntry>>::success({});
    if (journal.ok() && local->isOpen()) {
        for (const auto &e : *journal)
            add(e.atMs, e.actor, e.summary, e.outcome, handles.value(e.id, 0), e.id);
    }
    // Actions the local store could not record are still listed (and the window shows why they were not kept).
    for (const auto &t : m_session->actions()->tracked()) {
        if (t.journalId == 0)
            add(t.startedMs, QString(), t.action.describe() + QStringLiteral(": ") + t.action.reason,
                describe(t.phase) + (t.message.isEmpty() ? QString() : QStringLiteral(": ") + t.message), t.handle, 0);
    }
    m_activity->resizeColumnsToContents();
    for (int r = 0; r < m_activityModel->rowCount(); ++r) {
        if (selected != 0 && m_activityModel->item(r, 0)->data(kHandleRole).toInt() == selected)
            m_activity->selectRow(r);
    }
    updateButtons();
}

void OperationsDock::activityChanged(const ActionController::Tracked &t)
{
    // An action already listed: its outcome cell changes, nothing else (an action reports every step).
    for (int r = 0; t.journalId > 0 && r < m_activityModel->rowCount(); ++r) {
        QStandardItem *first = m_activityModel->item(r, 0);
        if (first->data(kJournalRole).toLongLong() != t.journalId)
            continue;
        first->setData(t.handle, kHandleRole);
        QStandardItem *outcome = m_activityModel->item(r, 3);
        outcome->setText(outcomeText(t));
        outcome->setToolTip(outcome->text());
        updateButtons();
        return;
    }
    refreshActivity(); // a new one
}

QString OperationsDock::selectedOperation() const
{
    const QModelIndexList rows = m_operations->selectionModel()->selectedRows();
    return rows.isEmpty() ? QString() : rows.front().data(OperationModel::IdRole).toString();
}

int OperationsDock::selectedHandle() const
{
    const QModelIndexList rows = m_activity->selectionModel()->selectedRows();
    return rows.isEmpty() ? 0 : m_activityModel->item(rows.front().row(), 0)->data(kHandleRole).toInt();
}

void OperationsDock::updateButtons()
{
    const QModelIndexList rows = m_operations->selectionModel()->selectedRows();
    const bool running
        = !rows.isEmpty() && !isTerminal(OperationState(rows.front().data(OperationModel::StateRole).toInt()));
    const QString why = m_session->whyCannotAct(Role::Operator);
    m_cancel->setEnabled(running && why.isEmpty());
    m_cancel->setToolTip(!why.isEmpty() ? why
            : running                   ? tr("Cancel the selected operation (asks first)")
                                        : tr("select an operation in flight"));
    const int handle = selectedHandle();
    const auto *t = m_session->actions()->find(handle);
    const bool undoable
        = t && t->phase == ActionController::Phase::Done && !m_session->actions()->inverseOf(handle).isEmpty();
    m_undo->setEnabled(undoable && why.isEmpty());
    const bool unknown = t && t->phase == ActionController::Phase::Uncertain;
    m_lookAgain->setEnabled(unknown);
    m_giveUp->setEnabled(unknown);
    m_unknownHint->setText(unknown
            ? tr("Outcome unknown: the fleet is asked again by itself. Give up only after checking the fleet's "
                 "operations (key %1).")
                  .arg(t->action.idempotencyKey)
            : tr("Look again and Give up apply to an action whose outcome is unknown."));
    m_lookAgain->setToolTip(tr("Ask the fleet now whether it has this action (it is sent again only if it does not)"));
    m_giveUp->setToolTip(tr("Stop asking: recorded as not known to have happened; nothing is sent"));
    m_undo->setToolTip(!why.isEmpty() ? why
            : undoable                ? tr("Reverse this action with a new, audited action (asks first)")
                                      : tr("select an action of this run that is done and has an inverse"));
}

void OperationsDock::updateExpiry()
{
    QStringList soon;
    for (const ActionController::Expiring &e : m_session->actions()->expiringSoon(60 * 60 * 1000))
        soon << e.text;
    m_expiry->setText(soon.isEmpty() ? QString() : tr("Time-boxed: %1").arg(soon.join(u' ')));
    m_expiry->setVisible(!soon.isEmpty());
}

QString OperationsDock::expiryText() const
{
    return m_expiry->text();
}

} // namespace fleet
