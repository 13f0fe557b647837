import type { ReactNode } from 'react';
import { Navigate } from 'react-router-dom';
import { useAuth } from '../hooks/useAuth';

interface ProtectedRouteProps {
  children: ReactNode;
}

export function ProtectedRoute({ children }: ProtectedRouteProps) {
  const { session, loading } = useAuth();
  if (loading) {
    return <p>Loading…</p>;
  }
  if (!session) {
    return <Navigate to="/" replace />;
  }
  return <>{children}</>;
}
