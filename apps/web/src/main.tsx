// First: configures zod before any module builds a schema (see the file).
import './lib/zod-jitless';
import { MutationCache, QueryCache, QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode, useState, type ReactNode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router';
import { App } from './App';
import { getSelectedWorkspaceId, isStaleWorkspaceError, setSelectedWorkspaceId } from './lib/workspace-selection';
import { createTrpcClient, trpc, trpcErrorCode, trpcErrorMessage } from './trpc';
import './styles.css';

/** Client errors (bad input, signed out, not found, ...) will not change on retry. */
const NO_RETRY = new Set(['BAD_REQUEST', 'UNAUTHORIZED', 'FORBIDDEN', 'NOT_FOUND']);

/**
 * The server refused the workspace stored in the switcher (the admin lost that role, or another
 * user signed in on this browser): forget it, so the next requests act on their default
 * workspace, and fetch everything again.
 */
function onApiError(queryClient: QueryClient, error: unknown) {
  if (!getSelectedWorkspaceId() || !isStaleWorkspaceError(trpcErrorCode(error), trpcErrorMessage(error))) return;
  setSelectedWorkspaceId(null);
  void queryClient.resetQueries();
}

function createQueryClient(): QueryClient {
  const queryClient: QueryClient = new QueryClient({
    queryCache: new QueryCache({ onError: (error) => onApiError(queryClient, error) }),
    mutationCache: new MutationCache({ onError: (error) => onApiError(queryClient, error) }),
    defaultOptions: {
      queries: { retry: (count, error) => !NO_RETRY.has(trpcErrorCode(error) ?? '') && count < 2 },
      mutations: { retry: false },
    },
  });
  return queryClient;
}

function Providers({ children }: { children: ReactNode }) {
  const [queryClient] = useState(createQueryClient);
  const [trpcClient] = useState(createTrpcClient);
  return (
    <trpc.Provider client={trpcClient} queryClient={queryClient}>
      <QueryClientProvider client={queryClient}>{children}</QueryClientProvider>
    </trpc.Provider>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <Providers>
      <BrowserRouter>
        <App />
      </BrowserRouter>
    </Providers>
  </StrictMode>,
);
