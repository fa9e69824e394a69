#pragma once

#include "healthverdict.h"
#include "theme.h"

#include <QObject>
#include <QPointer>

class QMenu;
class QSystemTrayIcon;

namespace fleet {

class FleetSession;

// The console in the desktop's tray: an icon in the colour and shape of the worst region's verdict and a tooltip
// that names the regions in trouble and why, kept current while the window is hidden. Clicking it shows the window.
// Without a system tray (a bare X server, a test) it does nothing and says so in isAvailable().
class TrayStatus : public QObject
{
    Q_OBJECT

public:
    TrayStatus(FleetSession *session, QMenu *menu, QObject *parent = nullptr);
    ~TrayStatus() override;

    bool isAvailable() const { return m_tray != nullptr; }
    Verdict worst() const { return m_worst; }
    QString toolTip() const { return m_toolTip; }
    // The icon as drawn for `verdict`: a glyph in the verdict's colour and shape (for the tray and the tests).
    static QIcon iconFor(Verdict verdict, const Theme &theme);

    void setVisible(bool visible);
    void update(); // re-reads the verdicts (the session's monitor drives it)

Q_SIGNALS:
    void activated(); // the icon was clicked

private:
    QPointer<FleetSession> m_session;
    QSystemTrayIcon *m_tray = nullptr;
    Verdict m_worst = Verdict::NoData;
    QString m_toolTip;
};

} // namespace fleet
