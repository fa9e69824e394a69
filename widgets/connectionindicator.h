#pragma once

#include "fleetconnection.h"
#include "theme.h"

#include <QPointer>
#include <QTimer>
#include <QWidget>

class QLabel;

namespace fleet {

// The status bar's account of the connection: live (with the age of the newest data), reconnecting (attempt, the
// reason in words, next try in N s), offline (why), and whether what is on screen is stale. Reads the connection's
// status twice a second so the ages count up even when nothing arrives.
class ConnectionIndicator : public QWidget
{
    Q_OBJECT

public:
    explicit ConnectionIndicator(QWidget *parent = nullptr);

    void setConnection(FleetConnection *connection, const QString &host = {});
    void setStaleAfterMs(int ms) { m_staleAfterMs = ms; }
    void setTheme(const Theme &theme);
    void refresh(); // re-reads the connection's status

    QString text() const;
    bool isStale() const { return m_stale; }
    QString staleText() const { return m_staleText; } // "Stale · last data 42 s ago"

    static QString describe(const ConnectionStatus &status, const QString &host);
    static QString formatAge(qint64 ms); // "0.4 s", "42 s", "3 min 12 s"

Q_SIGNALS:
    void staleChanged(bool stale, const QString &text);

protected:
    void paintEvent(QPaintEvent *event) override;
    void changeEvent(QEvent *event) override; // follows Theme::apply through the application palette

private:
    QPointer<FleetConnection> m_connection;
    QString m_host;
    QLabel *m_label;
    QTimer m_tick;
    Theme m_theme;
    QColor m_dot;
    int m_staleAfterMs = 5000;
    bool m_stale = false;
    QString m_staleText;
};

} // namespace fleet
