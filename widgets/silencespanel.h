#pragma once

#include <QWidget>

class QLabel;
class QPushButton;
class QTreeWidget;

namespace fleet {

class FleetSession;

// The silences this console made for mitigations (issue #23), in the Operations dock: state, region, the time left
// counting down, the operation and reason it belongs to and Alertmanager's current id (it changes when someone edits
// the silence there). Expire ends the selected one now. Every text is the silence's own, shown as text.
class SilencesPanel : public QWidget
{
    Q_OBJECT

public:
    enum Column { StateColumn, RegionColumn, EndsColumn, OperationColumn, WhyColumn, IdColumn, ColumnCount };

    explicit SilencesPanel(FleetSession *session, QWidget *parent = nullptr);

    QTreeWidget *view() const { return m_view; }
    QPushButton *expireButton() const { return m_expire; }
    void refresh(); // rows from the session's MitigationSilences; the countdowns from the clock

private:
    void follow();
    QString selectedKey() const;

    FleetSession *m_session;
    QLabel *m_header;
    QTreeWidget *m_view;
    QPushButton *m_expire;
};

} // namespace fleet
