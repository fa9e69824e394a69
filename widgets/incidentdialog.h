#pragma once

#include "incidentmetrics.h"
#include "incidenttimeline.h"
#include "statusbackend.h"

#include <QDialog>

class QComboBox;
class QLabel;
class QPlainTextEdit;
class QPushButton;
class QTableWidget;
class QTabWidget;

namespace fleet {

class FleetSession;

// One incident from first alert to postmortem: its timeline (verdict changes, operations, status updates merged in
// UTC order, exportable as Markdown and JSON) and a postmortem draft generated from it with the seed report's
// sections, editable, sent to the page as the draft and published on request (through the outbox).
class IncidentDialog : public QDialog
{
    Q_OBJECT

public:
    explicit IncidentDialog(FleetSession *session, QWidget *parent = nullptr);

    QList<IncidentTimeline::Entry> entries() const { return m_entries; }
    // Time to detect, acknowledge and mitigate the incident shown, and the line above the tabs that says them.
    const IncidentMetrics &metrics() const { return m_metrics; }
    QString figuresText() const;
    QString draft() const;
    QString message() const;
    void showPostmortem(); // the postmortem tab in front

Q_SIGNALS:
    void incidentsRead();
    void queued(const QString &summary);

private:
    void readIncidents();
    void showIncident();
    void fitToContent();
    void exportAs(bool json);
    void queuePostmortem(bool publish);

    FleetSession *m_session;
    QList<status::Incident> m_incidents;
    QList<IncidentTimeline::Entry> m_entries;
    IncidentMetrics m_metrics;
    QComboBox *m_incident;
    QLabel *m_figures;
    QTableWidget *m_table;
    QPlainTextEdit *m_draft;
    QLabel *m_message;
    QTabWidget *m_tabs;
};

} // namespace fleet
