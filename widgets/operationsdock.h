#pragma once

#include "actioncontroller.h"

#include <QWidget>

class QLabel;
class QPushButton;
class QStandardItemModel;
class QTabWidget;
class QTableView;

namespace fleet {

class FleetSession;
class SilencesPanel;

// The operations dock: every operation of the fleet, live from the event stream (yours and other people's: who,
// why, state, progress, time-boxed capacity counting down), with Cancel where the API allows it; and the Activity
// tab, the local audit log of every action attempted from this console (kept in the local store, across restarts),
// with its outcome and, once an action is done, Undo (a new, audited inverse action, never a local undo).
class OperationsDock : public QWidget
{
    Q_OBJECT

public:
    explicit OperationsDock(FleetSession *session, QWidget *parent = nullptr);

    QTableView *operationsView() const { return m_operations; }
    QTableView *activityView() const { return m_activity; }
    QPushButton *lookAgainButton() const { return m_lookAgain; }
    QPushButton *giveUpButton() const { return m_giveUp; }
    QStandardItemModel *activityModel() const { return m_activityModel; }
    SilencesPanel *silencesPanel() const { return m_silences; }
    void showActivity();
    void showSilences();
    void refreshActivity();
    void activityChanged(const fleet::ActionController::Tracked &tracked);
    QString expiryText() const;

Q_SIGNALS:
    // The engineer asked for these (cancel an operation, undo an action): the window confirms them in an
    // ActionDialog like any other action.
    void actionsRequested(const QList<fleet::FleetAction> &actions, const QString &context);

private:
    void updateButtons();
    void updateExpiry();
    QString selectedOperation() const;
    int selectedHandle() const;

    FleetSession *m_session;
    QTabWidget *m_tabs;
    QTableView *m_operations;
    QTableView *m_activity;
    QStandardItemModel *m_activityModel;
    QLabel *m_expiry;
    QPushButton *m_cancel;
    QPushButton *m_undo;
    QPushButton *m_lookAgain; // an unconfirmed action: ask the fleet again now
    QPushButton *m_giveUp; // ... or stop asking: recorded as not known to have happened
    QLabel *m_unknownHint; // why they are offered, next to them
    SilencesPanel *m_silences;
};

} // namespace fleet
