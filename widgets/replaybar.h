#pragma once

#include <QWidget>

class QComboBox;
class QLabel;
class QSlider;
class QToolButton;

namespace fleet {

class IncidentReplay;

// The strip across the top of a window that plays an incident bundle (issue #24): the REPLAY badge (what is shown is
// not live), the bundle's name and window, the replay's own time, play/pause, 1x to 60x, and a slider to move to any
// second of the window. Keys: Space plays or pauses while the strip has focus; the slider takes the arrows.
class ReplayBar : public QWidget
{
    Q_OBJECT

public:
    ReplayBar(IncidentReplay *replay, QWidget *parent = nullptr);

    QString text() const; // the badge and the position, as a person reads them
    QToolButton *playButton() const { return m_play; }
    QComboBox *speedBox() const { return m_speed; }
    QSlider *slider() const { return m_slider; }

private:
    void refresh();

    IncidentReplay *m_replay;
    QLabel *m_badge;
    QLabel *m_title;
    QLabel *m_position;
    QToolButton *m_play;
    QComboBox *m_speed;
    QSlider *m_slider;
    bool m_dragging = false;
};

} // namespace fleet
