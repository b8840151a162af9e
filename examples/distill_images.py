"""
Images: a convolutional teacher distilled into a ConvStudent
============================================================

Distil a convolutional network into one 40x smaller, on the digits as 8x8 images.

The teacher is any trained torch module that reads images of shape (channels, height,
width); here a ConvStudent with 64 and 128 channels, trained by a plain torch loop. The
student class is given to the distiller, which builds it from the images' shape. The
script prints the teacher's and the student's test accuracy, sizes and latencies side by
side (the student also as an ONNX file), and checks that the ONNX file gives the same
probabilities for any number of images.

Run: python examples/distill_images.py
"""

import os
import tempfile

import numpy as np
import onnxruntime
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skdistill import ConvStudent, DistilledClassifier, export_onnx, report


def train(module, X, y, epochs=40, seed=0):
    """A plain torch training loop: Adam, cross-entropy, batches of 128."""
    torch.manual_seed(seed)
    optimizer = torch.optim.Adam(module.parameters(), 3e-3)
    inputs, labels = torch.as_tensor(X), torch.as_tensor(y)
    for _ in range(epochs):
        for batch in torch.randperm(len(y)).split(128):
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(module(inputs[batch]), labels[batch]).backward()
            optimizer.step()
    return module.eval()


def main():
    X, y = load_digits(return_X_y=True)
    images = (X / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)  # (n, channels, height, width)
    X_train, X_test, y_train, y_test = train_test_split(
        images, y, test_size=0.25, stratify=y, random_state=0
    )
    teacher = train(ConvStudent((1, 8, 8), 10, channels=(64, 128)), X_train, y_train)

    student = DistilledClassifier(teacher, student_module=ConvStudent, random_state=0)
    student.fit(X_train, y_train)  # the student is built for input_shape_ = (1, 8, 8)
    print(report(student, X_test, y_test, onnx=True))

    with tempfile.TemporaryDirectory() as folder:
        session = onnxruntime.InferenceSession(export_onnx(student, os.path.join(folder, "s.onnx")))
        for n in (1, 7, 200):
            _, proba = session.run(None, {"X": X_test[:n]})
            assert np.allclose(proba, student.predict_proba(X_test[:n]), atol=1e-5)
    print(f"ONNX file: same probabilities as predict_proba for 1, 7 and 200 images; input "
          f"shape {session.get_inputs()[0].shape}")


if __name__ == "__main__":
    main()
