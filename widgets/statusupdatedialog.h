#pragma once

#include "statusbackend.h"

#include <QDialog>
#include <QPointer>

#include <optional>

class QButtonGroup;
class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QRadioButton;
class QStackedWidget;
class QTableWidget;

namespace fleet {

class FleetSession;

// Composes one status-page update and queues it in the session's outbox: which incident (a new one, or one of the
// page's unresolved incidents, read back so two consoles see each other's updates), a lifecycle stepper
// (Investigating -> Identified -> Monitoring -> Resolved; "Update" when the status stays), words from the templates
// filled with live data, the page's components with a status each, the impact, and an explicit notify-subscribers
// choice that is never pre-selected. A preview shows the update as the public page will, every text as plain text;
// the confirm step says plainly that the post is public and cannot be unsent. Nothing is sent by the dialog: the
// outbox delivers, once and in order, also after a restart.
class StatusUpdateDialog : public QDialog
{
    Q_OBJECT

public:
    // `region` (optional) is the region the update is about: its components are pre-selected.
    StatusUpdateDialog(FleetSession *session, const QString &region, QWidget *parent = nullptr);

    bool isNewIncident() const;
    QString status() const;
    status::IncidentChange change() const; // the form as it stands
    QString previewTitle() const;
    QString previewBody() const;
    QString problem() const; // why it cannot be previewed yet, in words; empty when it can
    bool onConfirmStep() const;
    qint64 queuedEntry() const { return m_queued; } // the outbox entry, once published

Q_SIGNALS:
    void pageRead(); // components and unresolved incidents arrived (or failed: see problem())
    void queued(const QString &summary);

private:
    void readPage();
    void fillComponents();
    void incidentChosen();
    // The subscribers choice of this console's previous write to `incident` (page id), if it made one.
    std::optional<bool> earlierNotifyChoice(const QString &incident) const;
    void setNotifyChoice(std::optional<bool> notify); // none: neither chosen
    void statusChosen(const QString &status);
    void updateState();
    void showPreview();
    void publish();

    FleetSession *m_session;
    QString m_region;
    QList<status::Component> m_components;
    QList<status::Incident> m_unresolved;
    QString m_pageError;
    bool m_bodyEdited = false;
    bool m_filling = false;
    qint64 m_queued = 0;

    QStackedWidget *m_steps;
    QLabel *m_where;
    QComboBox *m_incident;
    QLineEdit *m_name;
    QLabel *m_nameLabel;
    QButtonGroup *m_stepper;
    QLabel *m_stepNote;
    QLabel *m_notifyNote; // where the subscribers choice came from, when it was carried over
    QPlainTextEdit *m_body;
    QTableWidget *m_componentTable;
    QComboBox *m_impact;
    QRadioButton *m_notify;
    QRadioButton *m_quiet;
    QLabel *m_problem;
    QPushButton *m_previewButton;
    // Confirm step
    QLabel *m_previewTitle;
    QLabel *m_previewStatus;
    QLabel *m_previewBody;
    QLabel *m_previewMeta;
    QLabel *m_previewComponents;
    QLabel *m_warning;
    QPushButton *m_publishButton;
};

} // namespace fleet
