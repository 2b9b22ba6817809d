"""What a pixel value of a label map means, in DAVIS and YouTube-VOS alike: 0 background, 1..254
objects, 255 void. Data readers, the propagation core and the metrics read these from here."""

BACKGROUND = 0
MAX_OBJECT_ID = 254
VOID_LABEL = 255
