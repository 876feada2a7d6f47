"""PyTorch references of the `resnet18`, `crnn` and `cnn4` architectures of @ocrops/model (written here, in PyTorch terms).

resnet18: the licence-plate recipe - torchvision's ResNet-18 without layer3/layer4 (conv7x7/2 + BN + ReLU, maxpool
3x3/2, layer1 and layer2 of BasicBlocks), mean over the height, Conv1d(W/8 -> steps, kernel 1) over the width axis,
2-layer bidirectional GRU 128 (dropout 0.3), Linear -> classes.
crnn: the Synth90k recipe - VGG with BN on conv 5/6, map-to-sequence Linear(512 * (H/16 - 1) -> 64),
two bidirectional LSTM 256, Linear -> classes.

cnn4: the reference image classifier - four Conv2d ('same' padding, kernels 5, 5, 3, 5, channels doubling from
base_channels), each + ReLU + MaxPool2d(2), flatten, (dropout), Linear -> classes.

Prints one JSON line: {"arch", "params", "output_shape": [T, B, classes]} for a forward pass of a zero batch.
Run: .venv-bench/bin/python bench/model/arch_ref.py --arch resnet18 --height 32 --width 128 --steps 20 --classes 70
"""
import argparse
import json

import torch
import torch.nn as nn


class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return torch.relu(y + (self.down(x) if self.down is not None else x))


class PlateResNet18(nn.Module):
    def __init__(self, channels: int, width: int, steps: int, classes: int, hidden: int = 128):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(channels, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(True), nn.MaxPool2d(3, 2, 1))
        self.layers = nn.Sequential(BasicBlock(64, 64, 1), BasicBlock(64, 64, 1), BasicBlock(64, 128, 2), BasicBlock(128, 128, 1))
        cols = width
        for _ in range(3):
            cols = (cols + 1) // 2
        self.width_proj = nn.Conv1d(cols, steps, 1)
        self.rnn = nn.GRU(128, hidden, num_layers=2, bidirectional=True, dropout=0.3)
        self.fc = nn.Linear(2 * hidden, classes)

    def forward(self, x):  # [B, C, H, W] -> [T, B, classes]
        y = self.layers(self.stem(x)).mean(dim=2)  # [B, 128, W/8]
        y = self.width_proj(y.permute(0, 2, 1))  # columns as channels -> [B, T, 128]
        y, _ = self.rnn(y.permute(1, 0, 2))
        return self.fc(y)


class Synth90kCRNN(nn.Module):
    def __init__(self, channels: int, height: int, classes: int, map_to_seq: int = 64, hidden: int = 256):
        super().__init__()
        ch = [channels, 64, 128, 256, 256, 512, 512, 512]

        def block(i, bn=False):
            k, p = (2, 0) if i == 6 else (3, 1)
            layers = [nn.Conv2d(ch[i], ch[i + 1], k, 1, p)]
            if bn:
                layers.append(nn.BatchNorm2d(ch[i + 1]))
            return layers + [nn.ReLU(True)]

        self.cnn = nn.Sequential(
            *block(0), nn.MaxPool2d(2, 2), *block(1), nn.MaxPool2d(2, 2), *block(2), *block(3), nn.MaxPool2d((2, 1)),
            *block(4, True), *block(5, True), nn.MaxPool2d((2, 1)), *block(6))
        rows = height // 16 - 1
        self.map_to_seq = nn.Linear(512 * rows, map_to_seq)
        self.rnn1 = nn.LSTM(map_to_seq, hidden, bidirectional=True)
        self.rnn2 = nn.LSTM(2 * hidden, hidden, bidirectional=True)
        self.fc = nn.Linear(2 * hidden, classes)

    def forward(self, x):
        y = self.cnn(x)
        b, c, h, w = y.shape
        y = self.map_to_seq(y.view(b, c * h, w).permute(2, 0, 1))
        y, _ = self.rnn1(y)
        y, _ = self.rnn2(y)
        return self.fc(y)


class Cnn4(nn.Module):
    def __init__(self, channels: int, height: int, width: int, classes: int, base: int = 32, dropout: float = 0.0):
        super().__init__()
        layers = []
        cin = channels
        for i, k in enumerate([5, 5, 3, 5]):
            cout = base * 2 ** i
            layers += [nn.Conv2d(cin, cout, k, padding="same"), nn.ReLU(True), nn.MaxPool2d(2)]
            cin = cout
        self.features = nn.Sequential(*layers)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(cin * (height // 16) * (width // 16), classes)

    def forward(self, x):  # [B, C, H, W] -> [B, classes]
        return self.fc(self.dropout(torch.flatten(self.features(x), 1)))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", choices=["resnet18", "crnn", "cnn4"], required=True)
    ap.add_argument("--base-channels", type=int, default=32)
    ap.add_argument("--height", type=int, default=32)
    ap.add_argument("--width", type=int, default=100)
    ap.add_argument("--channels", type=int, default=None)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--classes", type=int, default=37)
    ap.add_argument("--batch", type=int, default=2)
    args = ap.parse_args()
    if args.arch == "cnn4":
        c = args.channels or 3
        model = Cnn4(c, args.height, args.width, args.classes, args.base_channels)
    elif args.arch == "resnet18":
        c = args.channels or 3
        model = PlateResNet18(c, args.width, args.steps, args.classes)
    else:
        c = args.channels or 1
        model = Synth90kCRNN(c, args.height, args.classes)
    model.eval()
    with torch.no_grad():
        out = model(torch.zeros(args.batch, c, args.height, args.width))
    params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    print(json.dumps({"arch": args.arch, "params": params, "output_shape": list(out.shape)}))


if __name__ == "__main__":
    main()
